// The edge's trace page in headless Chromium: one trace's spans as a waterfall, under a policy that
// allows no inline script, with whatever a client put in a request shown as text.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium } from '@landscape/platform/testing/browser';
import { eventually } from '@landscape/platform/testing';
import { startInProcessLandscape, type InProcessLandscape } from '../fault/landscape.ts';
import { product, randomHex, throughEdge, type SpanView } from './support.ts';

const outputFolder = join(import.meta.dirname, 'test-output');

describe('the trace page in a real browser', () => {
  let landscape: InProcessLandscape;
  let browser: Browser | undefined;

  before(async () => {
    landscape = await startInProcessLandscape({ TRACING_ENABLED: 'true' });
  });
  after(async () => {
    await browser?.close();
    await landscape?.close();
  });

  it('when a trace is opened, then its spans appear as a waterfall of every service, and markup a client sent stays text', async () => {
    const writer = await landscape.token('writer', 'product:read product:write');
    const traceId = randomHex(16);
    const traceparent = () => `00-${traceId}-${randomHex(8)}-01`;
    assert.equal(
      (
        await throughEdge(
          landscape.edge.httpsPort,
          'POST',
          '/product-composite',
          writer,
          { traceparent: traceparent() },
          product(701),
        )
      ).status,
      200,
    );
    await eventually(
      async () => {
        const read = await throughEdge(landscape.edge.httpsPort, 'GET', '/product-composite/701', writer, {
          traceparent: traceparent(),
        });
        assert.equal(JSON.parse(read.text).reviews.length, 1);
      },
      { timeoutMs: 10000, intervalMs: 100 },
    );
    // A User-Agent with markup in it: it lands in the spans' user_agent.original attribute.
    await throughEdge(landscape.edge.httpsPort, 'GET', '/product-composite/701', writer, {
      traceparent: traceparent(),
      'user-agent': '<img src=x onerror=window.injected=1>',
    });
    const base = `http://127.0.0.1:${landscape.edge.managementPort}`;
    const spans = await eventually(
      async () => {
        const { spans: found } = (await (await fetch(`${base}/traces/${traceId}`)).json()) as { spans: SpanView[] };
        assert.ok(
          found.filter((s) => s.kind === 'CONSUMER').length === 3 &&
            found.some((s) => s.service === 'review' && s.kind === 'SERVER'),
        );
        return found;
      },
      { timeoutMs: 10000, intervalMs: 100 },
    );

    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    const answer = await page.goto(`${base}/trace-viewer?trace=${traceId}`);
    assert.match(answer?.headers()['content-security-policy'] ?? '', /script-src 'self'/);
    await page.locator('body[data-ready="true"]').waitFor();

    await page.getByRole('heading', { name: new RegExp(`Trace ${traceId}`) }).waitFor();
    const rows = page.locator('#waterfall .row.span');
    assert.equal(await rows.count(), spans.length, 'one row per span');
    const services = await page.locator('#waterfall .row.span .service').allTextContents();
    for (const service of ['edge', 'product-composite', 'product', 'recommendation', 'review'])
      assert.ok(services.includes(service), service);
    const names = await page.locator('#waterfall .row.span .name').allTextContents();
    assert.ok(names.includes('consumer · process reviews'), names.join(' | '));
    // The waterfall: every bar lies inside its track, the first hop's spans the trace.
    const bars = await page
      .locator('#waterfall .bar')
      .evaluateAll((nodes) => nodes.map((n) => (n as unknown as { style: { width: string } }).style.width));
    assert.ok(
      bars.every((w) => /^\d+(\.\d+)?%$/.test(w) && Number.parseFloat(w) <= 100.0001),
      bars.join(','),
    );
    assert.ok(
      (await page.locator('#traces a', { hasText: 'edge POST /product-composite' }).count()) >= 1,
      'the list links the trace',
    );

    const markup = await rows.evaluateAll((nodes) =>
      nodes.some((n) => (n as unknown as { title: string }).title.includes('<img src=x onerror=window.injected=1>')),
    );
    assert.ok(markup, 'the markup is there, as text');
    assert.equal(
      await page.evaluate(() => (globalThis as unknown as { injected?: number }).injected),
      undefined,
      'and never ran',
    );
    assert.equal(await page.locator('#waterfall img').count(), 0);
    assert.deepEqual(problems, []);

    mkdirSync(outputFolder, { recursive: true });
    await page.screenshot({ path: join(outputFolder, 'trace-page.png'), fullPage: true });
  });

  it('when a trace id is unknown, then the page says so instead of failing', async () => {
    browser ??= await launchChromium();
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${landscape.edge.managementPort}/trace-viewer?trace=${randomHex(16)}`);
    await page.locator('body[data-ready="true"]').waitFor();
    assert.match((await page.locator('#trace-title').textContent()) ?? '', /No trace [0-9a-f]{32} here/);
  });
});
