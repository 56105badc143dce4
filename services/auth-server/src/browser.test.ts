import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { chromium, type Browser } from 'playwright-core';
import {
  authorizationUrl, configWithOverlay, pkcePair, requestToken, startAuthServer, temporaryFolder, type TestAuthServer,
} from './test-support.ts';

const CHROMIUM = '/usr/bin/chromium';
const outputFolder = join(import.meta.dirname, '..', 'test-output');

describe('auth-server in a real browser', () => {
  const folder = temporaryFolder();
  const callbacks: URL[] = [];
  let callbackServer: Server;
  let redirectUri = '';
  let server: TestAuthServer;
  let browser: Browser | undefined;

  before(async () => {
    // The client's redirect URI: a small page that notes the URL it was reached with.
    callbackServer = createServer((request, response) => {
      callbacks.push(new URL(request.url ?? '/', 'http://127.0.0.1'));
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!DOCTYPE html><title>Signed in</title><p>Signed in.</p>');
    });
    await new Promise<void>((resolve) => callbackServer.listen(0, '127.0.0.1', resolve));
    redirectUri = `http://127.0.0.1:${(callbackServer.address() as AddressInfo).port}/callback`;

    server = await startAuthServer({
      AUTH_KEYS_FILE: join(folder.path, 'jwks.json'),
      CONFIG_LOCATION: configWithOverlay(folder.path, `auth:\n  clients:\n    writer:\n      redirectUris: ["${redirectUri}"]\n`),
    });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await new Promise((resolve) => callbackServer?.close(resolve));
    folder.remove();
  });

  it('when magnus signs in and consents in Chromium, then the browser lands on the redirect URI with a code that exchanges, with the PKCE verifier, for his token', async () => {
    // A missing browser is a broken machine, not a reason to skip the test.
    assert.ok(existsSync(CHROMIUM), `Chromium is missing at ${CHROMIUM}: install it (apt-get install -y chromium); .ci/run does`);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    const { verifier, challenge } = pkcePair();
    const page = await browser.newPage();
    await page.goto(authorizationUrl(server.url, { clientId: 'writer', redirectUri, scope: 'product:read product:write', state: 'browser', challenge }));

    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Username').fill('magnus');
    await page.getByLabel('Password').fill('password');
    mkdirSync(outputFolder, { recursive: true });
    await page.screenshot({ path: join(outputFolder, 'login.png') });
    await page.getByRole('button', { name: 'Sign in' }).click();

    await page.getByRole('heading', { name: 'Allow access' }).waitFor();
    assert.match(await page.content(), /Create and delete products/);
    await page.screenshot({ path: join(outputFolder, 'consent.png') });
    await page.getByRole('button', { name: 'Allow' }).click();

    await page.waitForURL((url) => url.href.startsWith(redirectUri));
    const landed = new URL(page.url());
    assert.equal(landed.searchParams.get('state'), 'browser');
    const code = landed.searchParams.get('code') ?? '';
    assert.ok(code, `no code in ${landed.href}`);
    // The browser may ask for /favicon.ico after the callback, so look for the callback itself.
    assert.equal(callbacks.findLast((url) => url.pathname === '/callback')?.searchParams.get('code'), code);

    const { status, body } = await requestToken(server.url, { id: 'writer', secret: 'secret' }, {
      grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier,
    });
    assert.equal(status, 200, JSON.stringify(body));
    const { payload } = await jwtVerify(String(body['access_token']), createRemoteJWKSet(new URL(`${server.url}/oauth/jwks`)), {
      issuer: server.issuer, audience: 'product-composite', algorithms: ['RS256'], typ: 'at+jwt',
    });
    assert.equal(payload.sub, 'magnus');
    assert.equal(payload['scope'], 'product:read product:write');
  });
});
