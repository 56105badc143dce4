import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { Browser } from 'playwright-core';
import { launchChromium } from '@landscape/platform/testing/browser';
import {
  assertCrossedReplicas,
  authorizationUrl,
  configWithOverlay,
  pkcePair,
  replicaStore,
  requestToken,
  resetReplicaStore,
  startAuthServer,
  startReplicas,
  temporaryFolder,
  type Replicas,
  type TestAuthServer,
} from './test-support.ts';

const outputFolder = join(import.meta.dirname, '..', 'test-output');

let browser: Browser | undefined;
after(() => browser?.close());

async function chromiumBrowser(): Promise<Browser> {
  browser ??= await launchChromium();
  return browser;
}

/** A client's redirect URI: a small page that notes the URLs it was reached with. */
async function startCallbackServer(): Promise<{ redirectUri: string; callbacks: URL[]; close(): Promise<void> }> {
  const callbacks: URL[] = [];
  const server: Server = createServer((request, response) => {
    callbacks.push(new URL(request.url ?? '/', 'http://127.0.0.1'));
    response
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end('<!DOCTYPE html><title>Signed in</title><p>Signed in.</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    redirectUri: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`,
    callbacks,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * Magnus signs in and consents in Chromium, starting at `publicUrl`; the code the redirect URI is
 * reached with, exchanged at `tokenUrl` with the PKCE verifier, gives a token that `jwksUrl` verifies.
 */
async function signInInChromium(
  callback: { redirectUri: string; callbacks: URL[] },
  urls: { publicUrl: string; tokenUrl: string; jwksUrl: string; issuer: string },
  screenshots: string,
): Promise<void> {
  const { redirectUri } = callback;
  const { verifier, challenge } = pkcePair();
  const page = await (await chromiumBrowser()).newPage();
  try {
    await page.goto(
      authorizationUrl(urls.publicUrl, {
        clientId: 'writer',
        redirectUri,
        scope: 'product:read product:write',
        state: 'browser',
        challenge,
      }),
    );

    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Username').fill('magnus');
    await page.getByLabel('Password').fill('password');
    mkdirSync(outputFolder, { recursive: true });
    await page.screenshot({ path: join(outputFolder, `${screenshots}login.png`) });
    await page.getByRole('button', { name: 'Sign in' }).click();

    await page.getByRole('heading', { name: 'Allow access' }).waitFor();
    assert.match(await page.content(), /Create and delete products/);
    await page.screenshot({ path: join(outputFolder, `${screenshots}consent.png`) });
    await page.getByRole('button', { name: 'Allow' }).click();

    await page.waitForURL((url) => url.href.startsWith(redirectUri));
    const landed = new URL(page.url());
    assert.equal(landed.searchParams.get('state'), 'browser');
    const code = landed.searchParams.get('code') ?? '';
    assert.ok(code, `no code in ${landed.href}`);
    // The browser may ask for /favicon.ico after the callback, so look for the callback itself.
    assert.equal(callback.callbacks.findLast((url) => url.pathname === '/callback')?.searchParams.get('code'), code);

    const { status, body } = await requestToken(
      urls.tokenUrl,
      { id: 'writer', secret: 'secret' },
      {
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        code_verifier: verifier,
      },
    );
    assert.equal(status, 200, JSON.stringify(body));
    const { payload } = await jwtVerify(String(body['access_token']), createRemoteJWKSet(new URL(urls.jwksUrl)), {
      issuer: urls.issuer,
      audience: 'product-composite',
      algorithms: ['RS256'],
      typ: 'at+jwt',
    });
    assert.equal(payload.sub, 'magnus');
    assert.equal(payload['scope'], 'product:read product:write');
  } finally {
    await page.close();
  }
}

const withRedirectUri = (folder: string, redirectUri: string) =>
  configWithOverlay(folder, `auth:\n  clients:\n    writer:\n      redirectUris: ["${redirectUri}"]\n`);

describe('auth-server in a real browser', () => {
  const folder = temporaryFolder();
  let callback: Awaited<ReturnType<typeof startCallbackServer>>;
  let server: TestAuthServer;

  before(async () => {
    callback = await startCallbackServer();
    server = await startAuthServer({
      AUTH_KEYS_FILE: join(folder.path, 'jwks.json'),
      CONFIG_LOCATION: withRedirectUri(folder.path, callback.redirectUri),
    });
  });

  after(async () => {
    await server?.close();
    await callback?.close();
    folder.remove();
  });

  it('when magnus signs in and consents in Chromium, then the browser lands on the redirect URI with a code that exchanges, with the PKCE verifier, for his token', async () => {
    await signInInChromium(
      callback,
      { publicUrl: server.url, tokenUrl: server.url, jwksUrl: `${server.url}/oauth/jwks`, issuer: server.issuer },
      '',
    );
  });
});

describe('auth-server replicas in a real browser', () => {
  const folder = temporaryFolder();
  let callback: Awaited<ReturnType<typeof startCallbackServer>>;
  let replicas: Replicas;

  before(async () => {
    await resetReplicaStore();
    callback = await startCallbackServer();
    const env = { ...replicaStore, CONFIG_LOCATION: withRedirectUri(folder.path, callback.redirectUri) };
    replicas = await startReplicas(folder.path, env, env);
  });

  after(async () => {
    await replicas?.close();
    await callback?.close();
    folder.remove();
  });

  it("when the sign-in starts on replica A and Chromium's sign-in and consent go to B, then the code from A's redirect exchanges on A for a token B's keys verify", async () => {
    await signInInChromium(
      callback,
      {
        publicUrl: replicas.publicUrl,
        tokenUrl: replicas.a.url,
        jwksUrl: `${replicas.b.url}/oauth/jwks`,
        issuer: replicas.a.issuer,
      },
      'replicas-',
    );
    assertCrossedReplicas(replicas);
  });
});
