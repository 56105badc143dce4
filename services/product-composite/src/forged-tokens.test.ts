import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { createHmac } from 'node:crypto';
import { createLogger, createInProcessBus, type RunningService } from '@landscape/platform';
import {
  AUDIENCE,
  assertContractError,
  ISSUER,
  signAt,
  startTestIssuer,
  testEnv,
  type TestIssuer,
} from '@landscape/platform/testing';
import { productCompositeService } from './service.ts';
import { compositeEnv } from './testing/issuer.ts';

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

describe('access tokens: every forged or broken token is refused with 401, never 5xx', () => {
  let issuer: TestIssuer;
  let composite: RunningService;
  let attackerHits = 0;
  const attacker = createServer((_request, response) => {
    attackerHits += 1;
    response.end('{}');
  });
  let attackerUrl = '';
  const tokens: Array<[string, () => Promise<string>]> = [];

  before(async () => {
    issuer = await startTestIssuer();
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
    const logger = createLogger('tokens-test', 'silent');
    const config = productCompositeService.loadConfig({
      ...testEnv('product-composite', 'sqlite'),
      // No core services are needed: every request here must stop at the token check.
      ...compositeEnv(issuer, {
        product: 'http://127.0.0.1:1',
        recommendation: 'http://127.0.0.1:1',
        review: 'http://127.0.0.1:1',
      }),
    });
    composite = await productCompositeService.start(config, {
      bus: createInProcessBus(config.messaging, logger),
      logger,
    });
  });
  after(async () => {
    await composite.close();
    await issuer.close();
    attacker.close();
  });

  const scope = 'product:read product:write';
  const claims = { iss: ISSUER, aud: AUDIENCE, sub: 'writer', scope };
  const now = () => Math.floor(Date.now() / 1000);
  const forged: Array<[string, () => Promise<string>]> = [
    ['alg none', async () => new UnsecuredJWT(claims).setIssuedAt().setExpirationTime('5m').encode()],
    [
      'alg none with the typ and kid of a real token',
      async () =>
        `${b64({ alg: 'none', typ: 'at+jwt', kid: 'test-key' })}.${b64({ ...claims, exp: now() + 300, iat: now() })}.`,
    ],
    [
      'HS256 signed with the RSA public key as the secret',
      async () => {
        const pem = await exportSPKI(issuer.publicKey);
        const head = `${b64({ alg: 'HS256', typ: 'at+jwt', kid: 'test-key' })}.${b64({ ...claims, exp: now() + 300, iat: now() })}`;
        return `${head}.${createHmac('sha256', pem).update(head).digest('base64url')}`;
      },
    ],
    ['an unknown kid', () => issuer.sign({ scope }, { kid: 'no-such-key' })],
    ['an injected kid', () => issuer.sign({ scope }, { kid: "../../../../dev/null' OR '1'='1" })],
    [
      'a jku header pointing at an attacker JWKS, signed by the attacker',
      async () => signByAttacker({ jku: `${attackerUrl}/jwks` }),
    ],
    [
      'an x5u header pointing at an attacker certificate',
      async () => signByAttacker({ x5u: `${attackerUrl}/cert.pem` }),
    ],
    ['an embedded jwk of the attacker', async () => signByAttacker({}, true)],
    ['the right kid but signed by another key', async () => signByAttacker({ kid: 'test-key' })],
    ['a wrong issuer', () => issuer.sign({ scope, iss: 'http://evil-issuer' })],
    ['a wrong audience', () => issuer.sign({ scope, aud: 'some-other-api' })],
    ['an expired token', () => issuer.sign({ scope, exp: now() - 60 })],
    ['nbf in the future', () => issuer.sign({ scope, nbf: now() + 3600 })],
    ['iat a day in the future', () => signAt(issuer, { ...claims, iat: now() + 86_400, exp: now() + 86_400 + 300 })],
    [
      'iat and nbf a minute in the future',
      () => signAt(issuer, { ...claims, iat: now() + 60, nbf: now() + 60, exp: now() + 360 }),
    ],
    ['no exp claim', () => issuer.sign({ scope }, {}, 0)],
    ['exp given as a string', () => issuer.sign({ scope, exp: String(now() + 300) as unknown as number })],
    [
      'a tampered payload (scope added after signing)',
      async () => {
        const [head, , signature] = (await issuer.reader()).split('.');
        return `${head}.${b64({ ...claims, exp: now() + 300, iat: now() })}.${signature}`;
      },
    ],
    ['a stripped signature', async () => `${(await issuer.writer()).split('.').slice(0, 2).join('.')}.`],
    ['a 16 KB token', async () => issuer.sign({ scope, padding: 'x'.repeat(16 * 1024) })],
    [
      'an ID token instead of an access token',
      () => issuer.sign({ aud: 'writer', nonce: 'n', auth_time: now() }, { typ: 'JWT' }),
    ],
    ['a token without typ at+jwt', () => issuer.sign({ scope }, { typ: 'JWT' })],
    [
      'PS256, an algorithm outside the allow-list',
      async () =>
        new SignJWT(claims)
          .setProtectedHeader({ alg: 'PS256', typ: 'at+jwt', kid: 'test-key' })
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign((await generateKeyPair('PS256')).privateKey),
    ],
    ['two parts only', async () => (await issuer.writer()).split('.').slice(0, 2).join('.')],
    ['base64 garbage', async () => 'eyJhbGciOi.!!!.@@@'],
    [
      'a JSON array as payload',
      async () => `${b64({ alg: 'RS256', typ: 'at+jwt', kid: 'test-key' })}.${b64([1, 2])}.sig`,
    ],
  ];
  tokens.push(...forged);

  async function signByAttacker(header: Record<string, unknown>, embed = false) {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const jwk = await exportJWK(publicKey);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'attacker', ...header, ...(embed ? { jwk } : {}) })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
  }

  for (const [what, make] of tokens) {
    it(`when the token has ${what}, then GET, POST and DELETE answer 401 with an invalid_token challenge`, async () => {
      const token = await make();
      for (const [method, path] of [
        ['GET', '/product-composite/1'],
        ['POST', '/product-composite'],
        ['DELETE', '/product-composite/1'],
      ] as const) {
        const response = await fetch(`${composite.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          ...(method === 'POST' ? { body: JSON.stringify({ productId: 1, name: 'n', weight: 1 }) } : {}),
        });
        const body = (await response.json()) as { status: number; message: string };
        assertContractError({ status: response.status, body }, 401, /\S/, path);
        assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer error="(invalid_token|invalid_request)"/);
        assert.doesNotMatch(body.message, /eyJ/, 'the token is not echoed back');
      }
    });
  }

  it('when Authorization is not a Bearer token, then 401', async () => {
    for (const authorization of ['Basic d3JpdGVyOnNlY3JldA==', 'Bearer', 'Bearer  two spaces', 'bearer']) {
      const response = await fetch(`${composite.url}/product-composite/1`, { headers: { authorization } });
      assert.equal(response.status, 401, authorization);
    }
  });

  it('never fetched keys from a URL a token named', () => {
    assert.equal(attackerHits, 0);
  });
});
