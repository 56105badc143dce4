// Generated access tokens and OAuth requests: the composite accepts only a token the auth server issued
// for it, and the auth server answers every malformed or hostile request with a 4xx, never a token or 5xx.
import assert from 'node:assert/strict';
import { createHmac, createPrivateKey, createPublicKey, sign as signBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { startInProcessLandscape, type InProcessLandscape } from './landscape.ts';
import { runs, seed } from './settings.ts';
import { recordRow } from './summary.ts';

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

describe('fault suite: generated tokens and OAuth requests', () => {
  let landscape: InProcessLandscape;
  let keyFile: string;
  before(async () => {
    landscape = await startInProcessLandscape();
    keyFile = landscape.authKeyFile;
  });
  after(async () => {
    await landscape?.close();
  });

  it('when the composite gets forged, confused or misdirected tokens, then every one is refused with 401 and none with a 5xx', async () => {
    const jwks = JSON.parse(readFileSync(keyFile, 'utf8')) as { keys: JWK[] };
    const realJwk = jwks.keys.at(-1)!;
    const realKey = await importJWK(realJwk, 'RS256');
    const publicPem = createPublicKey({ key: realJwk as never, format: 'jwk' })
      .export({ type: 'spki', format: 'pem' })
      .toString();
    const other = await generateKeyPair('RS256', { extractable: true });
    const otherJwk = await exportJWK(other.publicKey);
    const issuer = 'http://localhost:9999';
    const good = { iss: issuer, aud: 'product-composite', sub: 'reader', scope: 'product:read', client_id: 'reader' };
    const now = Math.floor(Date.now() / 1000);

    const sign = (
      key: Parameters<SignJWT['sign']>[0],
      header: Record<string, unknown>,
      claims: Record<string, unknown>,
    ) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: realJwk.kid, ...header } as never)
        .sign(key);
    // jose will not sign a header it does not understand, so these are put together by hand.
    const rawRs256 = (header: Record<string, unknown>, claims: Record<string, unknown>) => {
      const input = `${b64({ alg: 'RS256', typ: 'at+jwt', kid: realJwk.kid, ...header })}.${b64(claims)}`;
      return `${input}.${signBytes('sha256', Buffer.from(input), createPrivateKey({ key: realJwk as never, format: 'jwk' })).toString('base64url')}`;
    };
    const hs256 = (secret: string, header: Record<string, unknown>, claims: Record<string, unknown>) => {
      const input = `${b64({ alg: 'HS256', typ: 'at+jwt', kid: realJwk.kid, ...header })}.${b64(claims)}`;
      return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
    };
    const claims = fc.record(
      {
        iss: fc.constantFrom(issuer, 'http://auth-server', 'https://evil.example', '', `${issuer}/`),
        aud: fc.constantFrom('product-composite', 'other', ['other'], ['other', 'product-composite-x'], ''),
        exp: fc.constantFrom(now + 300, now - 60, now + 10 ** 10, 'soon'),
        iat: fc.constantFrom(now, now + 86400, now - 10),
        scope: fc.constantFrom('product:read', 'product:read product:write', ''),
      },
      { requiredKeys: [] },
    );
    // Each case is wrong in at least one way the verifier must catch.
    const forged = fc.oneof(
      claims.map(async (c) => `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64({ ...good, ...c, exp: now + 300 })}.`),
      claims.map(async (c) => hs256(publicPem, {}, { ...good, ...c, exp: now + 300 })),
      claims.map(async (c) => hs256(JSON.stringify(realJwk), {}, { ...good, ...c, exp: now + 300 })),
      fc
        .constantFrom('../../../../etc/passwd', 'http://evil.example/jwks', '', '\u0000', realJwk.kid ?? 'k')
        .map(async (kid) => sign(other.privateKey, { kid }, { ...good, exp: now + 300 })),
      fc.constant(null).map(async () => sign(other.privateKey, { jwk: otherJwk }, { ...good, exp: now + 300 })),
      fc
        .constant(null)
        .map(async () => sign(other.privateKey, { jku: 'http://127.0.0.1:1/jwks' }, { ...good, exp: now + 300 })),
      fc
        .constantFrom(['exp'], ['b64'], ['x-unknown'])
        .map(async (crit) => rawRs256({ crit, exp: 1, b64: true, 'x-unknown': 1 }, { ...good, exp: now + 300 })),
      fc
        .constant(null)
        .map(async () =>
          sign(
            realKey,
            { cty: 'JWT' },
            { exp: now + 300, ...good, nested: await sign(realKey, {}, { ...good, exp: now + 300 }) },
          ),
        )
        .map(async (token) => {
          // A nested JWT: the signed payload is itself a token, not claims.
          const inner = await token;
          return sign(realKey, { cty: 'JWT' }, { payload: inner, exp: now + 300 });
        }),
      fc
        .constantFrom('other', 'product-composite-x', '')
        .map(async (aud) => sign(realKey, {}, { ...good, aud, exp: now + 300 })),
      fc
        .constantFrom('https://evil.example', 'http://auth-server')
        .map(async (iss) => sign(realKey, {}, { ...good, iss, exp: now + 300 })),
      fc.constant(null).map(async () => sign(realKey, {}, { ...good, exp: now - 600 })),
      fc
        .constantFrom(3600, 86400)
        .map(async (ahead) =>
          sign(realKey, {}, { ...good, iat: now + ahead, nbf: now + ahead, exp: now + ahead + 300 }),
        ),
      fc
        .constantFrom('JWT', 'jwt', 'application/jwt', 'id_token')
        .map(async (typ) => sign(realKey, { typ }, { ...good, exp: now + 300 })),
      fc.constant(null).map(async () => {
        const t = await sign(realKey, {}, { ...good, exp: now + 300 });
        return `${t.slice(0, -4)}AAAA`;
      }),
      fc.string({ maxLength: 80 }).map(async (s) => s),
      fc.tuple(fc.base64String(), fc.base64String(), fc.base64String()).map(async ([a, b, c]) => `${a}.${b}.${c}`),
    );
    let attempts = 0;
    const failures: string[] = [];
    await fc.assert(
      fc.asyncProperty(forged, async (made) => {
        attempts += 1;
        const token = await made;
        const response = await fetch(`${landscape.urls.composite}/product-composite/1`, {
          headers: { authorization: `Bearer ${token.replace(/[\r\n]/g, '')}` },
        }).catch((error: Error) => {
          // fetch refuses to send some headers at all; any other failure is the composite not answering.
          if (error.message === 'fetch failed')
            failures.push(`no answer (${String(error.cause)}) for ${token.slice(0, 160)}`);
          return undefined;
        });
        if (!response) return;
        await response.arrayBuffer();
        if (response.status !== 401) failures.push(`${response.status} for ${token.slice(0, 160)}`);
      }),
      { seed, numRuns: runs(400) },
    );
    recordRow({ row: 'forged and misdirected tokens', attempts, failures: failures.length });
    assert.deepEqual(failures.slice(0, 20), []);
  });

  it('when the token and authorize endpoints get malformed, hostile or downgraded requests, then 4xx, no token, and no redirect to an unregistered place', async () => {
    const basic = fc.oneof(
      fc
        .constantFrom(
          'writer:secret',
          'writer:wrong',
          'writer:',
          ':secret',
          'nobody:secret',
          'writer',
          'writer:secret:extra',
          '\u0000:\u0000',
          'w%72iter:secret',
        )
        .map((pair) => `Basic ${Buffer.from(pair).toString('base64')}`),
      fc.constantFrom(
        'Basic',
        'Basic ',
        'Basic %%%',
        'Basic d3JpdGVyOnNlY3JldA',
        'Bearer x',
        'basic d3JpdGVyOnNlY3JldA==',
        `Basic ${'A'.repeat(5000)}`,
      ),
      fc.constant(undefined),
    );
    const tokenForm = fc.record(
      {
        grant_type: fc.constantFrom(
          'client_credentials',
          'password',
          'authorization_code',
          'refresh_token',
          'implicit',
          'urn:ietf:params:oauth:grant-type:device_code',
          'urn:ietf:params:oauth:grant-type:jwt-bearer',
          '',
          'CLIENT_CREDENTIALS',
          'client_credentials ',
        ),
        client_id: fc.constantFrom('writer', 'reader', 'nobody', ''),
        client_secret: fc.constantFrom('secret', 'wrong', ''),
        scope: fc.constantFrom('product:read', 'product:write', 'openid', 'admin', 'product:read product:read', ''),
        code: fc.constantFrom('x', '', 'a'.repeat(2000)),
        code_verifier: fc.constantFrom('short', 'a'.repeat(43), ''),
        redirect_uri: fc.constantFrom('https://my.redirect.uri', 'https://evil.example', ''),
        username: fc.constantFrom('magnus', 'root', ''),
        password: fc.constantFrom('wrong', '', "' or 1=1 --"),
        client_assertion_type: fc.constantFrom('urn:ietf:params:oauth:client-assertion-type:jwt-bearer'),
        client_assertion: fc.constantFrom(`${b64({ alg: 'none' })}.${b64({ iss: 'writer', sub: 'writer' })}.`),
      },
      { requiredKeys: ['grant_type'] },
    );
    const authorizeQuery = fc.record(
      {
        client_id: fc.constantFrom('writer', 'reader', 'nobody', ''),
        response_type: fc.constantFrom('code', 'token', 'id_token', 'code token', ''),
        redirect_uri: fc.constantFrom(
          'https://my.redirect.uri',
          'https://my.redirect.uri.evil.example',
          'https://my.redirect.uri@evil.example',
          'https://evil.example',
          '//evil.example',
          'javascript:alert(1)',
          'https://my.redirect.uri/../evil',
          'https://my.redirect.uri#x',
          'HTTPS://MY.REDIRECT.URI',
          '',
        ),
        scope: fc.constantFrom('product:read', 'openid product:read', 'admin', ''),
        code_challenge: fc.constantFrom('a'.repeat(43), 'short', ''),
        code_challenge_method: fc.constantFrom('S256', 'plain', 'none', ''),
        state: fc.string({ maxLength: 20 }),
        request: fc.constantFrom(`${b64({ alg: 'none' })}.${b64({ redirect_uri: 'https://evil.example' })}.`),
      },
      { requiredKeys: [] },
    );

    let attempts = 0;
    const failures: string[] = [];
    await fc.assert(
      fc.asyncProperty(tokenForm, basic, async (form, authorization) => {
        attempts += 1;
        const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
        if (authorization) headers.authorization = authorization;
        const response = await fetch(`${landscape.urls.auth}/oauth/token`, {
          method: 'POST',
          headers,
          body: new URLSearchParams(form as Record<string, string>),
        });
        const text = await response.text();
        // Only plain client credentials by exactly one method may succeed; PKCE and codes here are never valid.
        const byBasic = authorization === `Basic ${Buffer.from('writer:secret').toString('base64')}`;
        const byBody = form.client_id === 'writer' && form.client_secret === 'secret';
        const legit =
          form.grant_type === 'client_credentials' &&
          byBasic !== byBody &&
          (byBasic ? form.client_id === undefined && form.client_secret === undefined : authorization === undefined) &&
          form.client_assertion === undefined &&
          (form.scope === undefined || /^(product:(read|write)|openid|product:read product:read)?$/.test(form.scope));
        if (response.status >= 500 || (text.includes('access_token') && !legit))
          failures.push(
            `${response.status} token ${(authorization ?? '-').slice(0, 60)} ${JSON.stringify(form).slice(0, 300)} -> ${text.slice(0, 60)}`,
          );
      }),
      { seed, numRuns: runs(400) },
    );
    await fc.assert(
      fc.asyncProperty(authorizeQuery, async (query) => {
        attempts += 1;
        const response = await fetch(
          `${landscape.urls.auth}/oauth/authorize?${new URLSearchParams(query as Record<string, string>)}`,
          { redirect: 'manual' },
        );
        await response.arrayBuffer();
        const location = response.headers.get('location') ?? '';
        const safe =
          location === '' ||
          (location.startsWith('/') && !location.startsWith('//')) ||
          /^https:\/\/my\.redirect\.uri[/?#]/.test(location) ||
          /^https:\/\/my\.redirect\.uri$/.test(location);
        if (response.status >= 500 || !safe)
          failures.push(`${response.status} authorize ${JSON.stringify(query)} -> ${location}`);
      }),
      { seed, numRuns: runs(400) },
    );
    recordRow({ row: 'OAuth token and authorize requests', attempts, failures: failures.length });
    assert.deepEqual(failures.slice(0, 20), []);
  });
});
