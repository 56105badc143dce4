import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import {
  authorizationUrl,
  browserAt,
  configWithOverlay,
  pkcePair,
  requestToken,
  signInAndConsent,
  startAuthServer,
  temporaryFolder,
  type TestAuthServer,
} from './test-support.ts';

/** A token request as a browser application makes it: no Authorization header, client_id in the form. */
async function publicTokenRequest(url: string, form: Record<string, string>) {
  const response = await fetch(`${url}/oauth/token`, {
    method: 'POST',
    body: new URLSearchParams({ client_id: 'store', ...form }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("auth-server with the storefront's public client", () => {
  const folder = temporaryFolder();
  let server: TestAuthServer;
  // config-repo registers the path /store/, which is on the public URL: here the test server itself.
  let redirectUri = '';
  before(async () => {
    server = await startAuthServer({ AUTH_KEYS_FILE: join(folder.path, 'jwks.json') });
    redirectUri = `${server.url}/store/`;
  });
  after(async () => {
    await server.close();
    folder.remove();
  });

  const codeFor = async (challenge: string) => {
    const go = browserAt(server.url);
    const start = await go(
      authorizationUrl(server.url, {
        clientId: 'store',
        redirectUri,
        scope: 'product:read product:write',
        state: 'st',
        challenge,
      }),
    );
    assert.equal(start.status, 303);
    return signInAndConsent(go, start.headers.get('location') ?? '');
  };

  it('when the storefront signs magnus in with PKCE and no secret, then the code exchanges for his token with both product scopes', async () => {
    const { verifier, challenge } = pkcePair();
    const code = await codeFor(challenge);
    const { status, body } = await publicTokenRequest(server.url, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
    });
    assert.equal(status, 200, JSON.stringify(body));
    const payload = decodeJwt(String(body['access_token']));
    assert.equal(payload.sub, 'magnus');
    assert.equal(payload['scope'], 'product:read product:write');
  });

  it("when the code is exchanged with a wrong verifier, then invalid_grant: the verifier is the public client's only proof", async () => {
    const { challenge } = pkcePair();
    const code = await codeFor(challenge);
    const { status, body } = await publicTokenRequest(server.url, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: pkcePair().verifier,
    });
    assert.equal(status, 400);
    assert.equal(body['error'], 'invalid_grant');
  });

  it('when the public client asks for client_credentials or the password grant, then it is refused: it has no secret to prove who it is', async () => {
    const credentials = await publicTokenRequest(server.url, {
      grant_type: 'client_credentials',
      scope: 'product:read',
    });
    assert.equal(credentials.status, 400, JSON.stringify(credentials.body));
    assert.ok(
      ['invalid_request', 'unauthorized_client'].includes(String(credentials.body['error'])),
      JSON.stringify(credentials.body),
    );
    assert.equal(credentials.body['access_token'], undefined);
    const password = await publicTokenRequest(server.url, {
      grant_type: 'password',
      username: 'magnus',
      password: 'password',
    });
    assert.equal(password.status, 400, JSON.stringify(password.body));
    assert.ok(
      ['invalid_request', 'unauthorized_client'].includes(String(password.body['error'])),
      JSON.stringify(password.body),
    );
    assert.equal(password.body['access_token'], undefined);
  });

  it('when a confidential client leaves out its secret, then 401 invalid_client: public clients do not loosen the others', async () => {
    const response = await fetch(`${server.url}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: 'writer', grant_type: 'client_credentials' }),
    });
    assert.equal(response.status, 401);
    assert.equal(((await response.json()) as { error: string }).error, 'invalid_client');
    const withSecret = await requestToken(
      server.url,
      { id: 'writer', secret: 'secret' },
      { grant_type: 'client_credentials' },
    );
    assert.equal(withSecret.status, 200);
  });

  it('when the storefront asks to return anywhere but its registered page on the public URL, then an error page and no redirect', async () => {
    for (const elsewhere of [
      'https://evil.example/store/',
      'https://localhost:8443/store/',
      `${server.url}/store/other`,
    ]) {
      const response = await fetch(
        authorizationUrl(server.url, {
          clientId: 'store',
          redirectUri: elsewhere,
          scope: 'product:read',
          state: 'x',
          challenge: pkcePair().challenge,
        }),
        { redirect: 'manual' },
      );
      assert.equal(response.status, 400, elsewhere);
      assert.equal(response.headers.get('location'), null);
    }
  });
});

describe('auth-server start-up checks for public clients', () => {
  const folder = temporaryFolder();
  after(() => folder.remove());
  const start = (yaml: string, env: Record<string, string> = {}) =>
    startAuthServer({
      AUTH_KEYS_FILE: join(folder.path, 'jwks.json'),
      CONFIG_LOCATION: configWithOverlay(folder.path, yaml),
      ...env,
    });

  it('when a public client is given a secret, then start-up fails naming it', async () => {
    await assert.rejects(
      start('', { AUTH_CLIENT_SECRETS: JSON.stringify({ reader: 'secret', writer: 'secret', store: 'oops' }) }),
      (error: Error) =>
        error.name === 'ConfigError' &&
        /auth\.clientSecrets\.store/.test(error.message) &&
        !error.message.includes('oops'),
    );
  });

  it('when a public client has no redirect URI, then start-up fails naming the key', async () => {
    await assert.rejects(
      start('auth:\n  clients:\n    store:\n      redirectUris: []\n'),
      (error: Error) => error.name === 'ConfigError' && /auth\.clients\.store\.redirectUris/.test(error.message),
    );
  });
});
