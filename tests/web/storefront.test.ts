// The storefront in Chromium against the all-in-one landscape on its standard ports (run it under
// `flock /work/wt/landscape.lock`): sign-in through the real sign-in page, the product view, create and
// delete, and the circuit breaker's cycle on the operator page. Each step leaves a screenshot.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { eventually } from '@landscape/platform/testing';
import { launchChromium } from '@landscape/platform/testing/browser';
import { clientToken, startLandscape, type Started } from '../support/processes.ts';

export const screenshots = join(import.meta.dirname, 'test-output');
const edge = 'https://localhost:8443';
const composite = 'http://127.0.0.1:7000';
const long = { timeout: 60000 };

/** A product with recommendations and no reviews, created through the API, so the page shows a partial answer. */
async function seedProduct(productId: number): Promise<void> {
  const token = await clientToken('http://127.0.0.1:9999', 'writer', 'product:read product:write');
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const created = await fetch(`${composite}/product-composite`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      productId,
      name: `Garden chair ${productId}`,
      weight: 7,
      recommendations: [{ recommendationId: 1, author: 'ann', rate: 4, content: 'sturdy' }],
    }),
  });
  assert.equal(created.status, 200);
  await eventually(
    async () => {
      const read = await fetch(`${composite}/product-composite/${productId}`, { headers });
      const body = read.ok ? ((await read.json()) as { recommendations: unknown[] }) : undefined;
      if (body?.recommendations.length !== 1) throw new Error(`product ${productId} not applied yet`);
    },
    { timeoutMs: 30000, intervalMs: 200 },
  );
}

describe('the storefront in a real browser', () => {
  let landscape: Started | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const shot = (name: string) => page.screenshot({ path: join(screenshots, name), fullPage: true });

  before(async () => {
    mkdirSync(screenshots, { recursive: true });
    // The breaker's open wait is configuration; shortened, the cycle takes seconds instead of ten.
    landscape = await startLandscape('start.ts', mkdtempSync(join(tmpdir(), 'storefront-')), {
      RESILIENCE_CIRCUIT_BREAKER_WAIT_IN_OPEN_MS: '3000',
    });
    await seedProduct(1);
    browser = await launchChromium();
    // The edge's development certificate is self-signed.
    page = await (await browser.newContext({ ignoreHTTPSErrors: true })).newPage();
  });
  after(async () => {
    await browser?.close();
    assert.equal(await landscape?.stop(), 0, 'the landscape stops cleanly');
  });

  it("when npm start is ready, then it prints the storefront's URL", () => {
    assert.match(landscape?.output() ?? '', /storefront +https:\/\/localhost:8443\/store\//);
  });

  /** Signs magnus in on the real sign-in page, from a fresh load of the storefront. */
  async function signIn(): Promise<void> {
    await page.goto(`${edge}/`);
    assert.equal(new URL(page.url()).pathname, '/store/');
    await page.getByText('Not signed in').waitFor();
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Username').fill('magnus');
    await page.getByLabel('Password').fill('password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Allow access' }).waitFor();
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.getByText('Signed in as magnus (product:read product:write)').waitFor();
  }

  /** Signs magnus in unless the page already shows him signed in, so a test of a signed-in view can run alone. */
  async function signedIn(): Promise<void> {
    if (!(await page.getByText('Signed in as magnus (product:read product:write)').isVisible())) await signIn();
  }

  it('when magnus signs in on the real sign-in page, then the storefront shows him with his scopes, and no token or code is left in the URL or in storage', async () => {
    await signIn();
    assert.equal(page.url(), `${edge}/store/#product`);
    // The token lives in the page's memory only; the PKCE verifier's round-trip entry is gone too.
    assert.deepEqual(await page.evaluate('[localStorage.length, sessionStorage.length]'), [0, 0]);
    await shot('signed-in.png');
  });

  it('when a product is shown, then its recommendations and the partial answer for its reviews are there, and 404 and 422 are explained', async () => {
    await signedIn();
    await page.getByLabel('Product id to show').fill('1');
    await page.getByRole('button', { name: 'Show product' }).click();
    await page.getByRole('heading', { name: 'Garden chair 1' }).waitFor();
    await page.getByText('ann rates it 4 (recommendation 1)').waitFor();
    await page.getByText('Partial answer: no reviews for this product.').waitFor();
    await shot('product.png');

    // From the keyboard alone: Enter in the field submits the form.
    await page.getByLabel('Product id to show').fill('13');
    await page.getByLabel('Product id to show').press('Enter');
    await page.getByText('Not found (404): No product found for productId: 13').waitFor();
    await page.getByLabel('Product id to show').fill('-1');
    await page.getByRole('button', { name: 'Show product' }).click();
    await page.getByText('Invalid input (422): Invalid productId: -1').waitFor();
    await shot('product-errors.png');
  });

  it("when magnus creates and then deletes a product, then the page says when each write's events have been applied", async () => {
    await signedIn();
    await page.getByRole('link', { name: 'Create and delete' }).press('Enter');
    await page.getByRole('heading', { name: 'Create and delete' }).waitFor();
    assert.equal(
      await page.evaluate('document.activeElement.id'),
      'manage-heading',
      "focus moves to the view's heading",
    );
    await page.getByLabel('New product id').fill('4242');
    await page.getByLabel('Name').fill('Lamp 4242');
    await page.getByLabel('Weight').fill('3');
    await page.getByLabel('Sample recommendations').fill('2');
    await page.getByLabel('Sample reviews').fill('1');
    await page.getByRole('button', { name: 'Create product' }).click();
    await page
      .getByText('Events applied: product 4242 "Lamp 4242" is readable with 2 recommendations and 1 reviews.')
      .waitFor(long);
    await shot('created.png');

    await page.getByLabel('Product id to delete').fill('4242');
    await page.getByRole('button', { name: 'Delete product' }).click();
    await page.getByText('Events applied: product 4242 is gone (404).').waitFor(long);
    await shot('deleted.png');
  });

  it('when the fault-injection cycle runs on the operator page, then the breaker is seen to open, give the fallback, go half-open and close', async () => {
    await signedIn();
    await page.getByRole('link', { name: 'Operator' }).click();
    await page.getByRole('heading', { name: 'Operator' }).waitFor();
    const row = page.getByRole('row', { name: /product-composite/ });
    await row.getByRole('cell', { name: 'UP' }).first().waitFor();
    assert.deepEqual(await row.getByRole('cell').allTextContents(), ['UP', 'UP']);
    assert.equal(await page.getByRole('row').count(), 6, 'a header row and five services');
    await page.locator('#breaker-state', { hasText: 'CLOSED' }).waitFor();

    await page.getByLabel('Product id for the cycle').fill('1');
    await page.getByRole('button', { name: 'Run fault-injection cycle' }).click();
    await page.getByText('A normal call now gets the fallback: Fallback product1').waitFor(long);
    await shot('operator-open.png');
    await page.getByText('Breaker HALF_OPEN. Making normal calls until it closes…').waitFor(long);
    await page.getByText('Breaker CLOSED again: the cycle is complete.').waitFor(long);
    const transitions = await page.locator('#transitions li').allTextContents();
    assert.deepEqual(
      transitions.slice(-3).map((t) => t.split(' ')[0]),
      ['CLOSED_TO_OPEN', 'OPEN_TO_HALF_OPEN', 'HALF_OPEN_TO_CLOSED'],
    );
    await shot('operator.png');
  });

  it('when magnus signs out, then reads and the operator summary are refused with a clear 401 and signing in asks for his password again', async () => {
    await signedIn();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('Signed out').waitFor();
    await page.getByRole('link', { name: 'Products' }).click();
    await page.getByLabel('Product id to show').fill('1');
    await page.getByRole('button', { name: 'Show product' }).click();
    await page
      .getByRole('alert')
      .getByText('Not signed in, or the sign-in has expired (401). Sign in and try again.')
      .waitFor();
    await shot('signed-out.png');
    // The operator summary is for signed-in users only.
    await page.getByRole('link', { name: 'Operator' }).click();
    await page.locator('#breaker-state', { hasText: 'unknown: Not signed in' }).waitFor();
    assert.equal(await page.getByRole('row').count(), 1, 'no service rows without a sign-in');
    await page.getByRole('link', { name: 'Products' }).click();
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.ok(await page.getByLabel('Password').isVisible());
  });
});
