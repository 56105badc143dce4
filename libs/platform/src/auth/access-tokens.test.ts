import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AUDIENCE, ISSUER, signAt, startTestIssuer, type TestIssuer } from './test-issuer.ts';
import { createTokenVerifier } from './access-tokens.ts';

describe('token verifier', () => {
  let issuer: TestIssuer;
  before(async () => {
    issuer = await startTestIssuer();
  });
  after(async () => {
    await issuer.close();
  });
  const settings = () => ({
    jwksUrl: issuer.jwksUrl,
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ['RS256'],
    clockSkewSeconds: 5,
    cacheMaxEntries: 2,
    maxTokenLength: 8192,
  });

  it('when a valid token is verified, then its subject and scopes are known and the JWKS is fetched once for many tokens', async () => {
    const verify = createTokenVerifier(settings());
    const principal = await verify(`Bearer ${await issuer.writer()}`);
    assert.equal(principal.subject, 'writer');
    assert.deepEqual([...principal.scopes], ['product:read', 'product:write']);
    for (let i = 0; i < 5; i++) await verify(`Bearer ${await issuer.reader()}`);
    assert.equal(issuer.jwksRequests(), 1);
  });

  it('when a cached token expires, then it is refused although it was accepted before', async () => {
    let clock = Date.now();
    const verify = createTokenVerifier(settings(), () => clock);
    const token = await issuer.sign({ scope: 'product:read' }, {}, '30s');
    await verify(`Bearer ${token}`);
    clock += 60_000;
    await assert.rejects(verify(`Bearer ${token}`), (e: { status: number }) => e.status === 401);
  });

  it('when iat or nbf lie beyond the clock skew, then the token is refused; within the skew it is accepted', async () => {
    const clock = Date.now();
    const verify = createTokenVerifier(settings(), () => clock);
    const at = Math.floor(clock / 1000);
    const claims = { iss: ISSUER, aud: AUDIENCE, sub: 'writer', scope: 'product:read', exp: at + 600 };
    for (const early of [{ iat: at + 6 }, { iat: at + 86_400 }, { iat: at, nbf: at + 6 }]) {
      await assert.rejects(
        verify(`Bearer ${await signAt(issuer, { ...claims, ...early })}`),
        (e: { status: number; message: string }) => e.status === 401 && /iat|nbf/.test(e.message),
        JSON.stringify(early),
      );
    }
    for (const close of [{ iat: at + 5 }, { iat: at + 4, nbf: at + 4 }]) {
      const principal = await verify(`Bearer ${await signAt(issuer, { ...claims, ...close })}`);
      assert.equal(principal.subject, 'writer', JSON.stringify(close));
    }
  });

  it("when the JWKS cannot be fetched, then 503 (not the client's fault), never a 5xx crash or a 401", async () => {
    const verify = createTokenVerifier({ ...settings(), jwksUrl: 'http://127.0.0.1:1/jwks' });
    await assert.rejects(verify(`Bearer ${await issuer.writer()}`), (e: { status: number }) => e.status === 503);
  });
});
