import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createClient } from '@redis/client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { testDatabaseName } from '@landscape/platform/testing';
import {
  assertCrossedReplicas,
  authorizationUrl,
  browserAt,
  pkcePair,
  replicaStore,
  requestToken,
  resetReplicaStore,
  signInAndConsent,
  startReplicas,
  temporaryFolder,
  type Replicas,
} from './test-support.ts';

const writer = { id: 'writer', secret: 'secret' };
const redirectUri = 'https://my.redirect.uri';

/** A sign-in through the front, then the code redeemed on A for a token that B's published keys verify. */
async function signInAndRedeem(replicas: Replicas): Promise<void> {
  const { verifier, challenge } = pkcePair();
  const code = await signInThroughFront(replicas, challenge);
  assertCrossedReplicas(replicas);

  const answer = await requestToken(replicas.a.url, writer, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: redirectUri,
    code_verifier: verifier,
  });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const { payload } = await jwtVerify(
    String(answer.body['access_token']),
    createRemoteJWKSet(new URL(`${replicas.b.url}/oauth/jwks`)),
    {
      issuer: replicas.a.issuer,
      audience: 'product-composite',
    },
  );
  assert.equal(payload.sub, 'magnus');
  assert.equal(payload['scope'], 'product:read product:write');

  const replayed = await requestToken(replicas.b.url, writer, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: redirectUri,
    code_verifier: verifier,
  });
  assert.equal(replayed.status, 400, 'a code redeemed on A is spent on B too');
  assert.equal(replayed.body['error'], 'invalid_grant');
}

/** The browser's part: authorize through the front, sign in and consent; the code the flow ends with. */
async function signInThroughFront(replicas: Replicas, challenge: string): Promise<string> {
  const go = browserAt(replicas.publicUrl);
  const started = await go(
    authorizationUrl(replicas.publicUrl, {
      clientId: 'writer',
      redirectUri,
      scope: 'openid product:read product:write',
      state: 'x',
      challenge,
    }),
  );
  assert.equal(started.status, 303);
  return signInAndConsent(go, started.headers.get('location') ?? '');
}

describe('auth-server replicas', () => {
  const folder = temporaryFolder();
  before(() => resetReplicaStore());
  after(() => folder.remove());

  describe('sharing the PostgreSQL store and the cookie keys', () => {
    let replicas: Replicas;
    before(async () => {
      replicas = await startReplicas(folder.path, replicaStore, replicaStore);
    });
    after(() => replicas?.close());

    it("when a sign-in starts on replica A and the sign-in and consent pages are answered by B, then the code redeems on A for a token that B's keys verify", async () => {
      await signInAndRedeem(replicas);
    });
  });

  describe('sharing a Redis store and the cookie keys', () => {
    const redis = {
      AUTH_STORE_KIND: 'redis',
      AUTH_STORE_REDIS_URL: 'redis://127.0.0.1:6379',
      AUTH_STORE_REDIS_KEY_PREFIX: `auth-server-test:${testDatabaseName('replicas')}:${randomUUID()}:`,
    };
    let replicas: Replicas;
    before(async () => {
      replicas = await startReplicas(folder.path, redis, redis);
    });
    after(async () => {
      await replicas?.close();
      const admin = createClient({ url: redis.AUTH_STORE_REDIS_URL });
      await admin.connect();
      for await (const keys of admin.scanIterator({ MATCH: `${redis.AUTH_STORE_REDIS_KEY_PREFIX}*` }))
        if (keys.length > 0) await admin.del(keys);
      await admin.close();
    });

    it('when a sign-in starts on A and is finished on B, then the code redeems on A, and readiness reports Redis', async () => {
      await signInAndRedeem(replicas);
      const health = (await (await fetch(`${replicas.b.url}/actuator/health/readiness`)).json()) as {
        components?: Record<string, { status: string }>;
      };
      assert.equal(health.components?.['redis']?.status, 'UP', JSON.stringify(health));
    });
  });

  describe('each with a memory store of its own', () => {
    let replicas: Replicas;
    before(async () => {
      replicas = await startReplicas(folder.path, { AUTH_STORE_KIND: 'memory' }, { AUTH_STORE_KIND: 'memory' });
    });
    after(() => replicas?.close());

    it('when a sign-in starts on A, then B does not know it and the sign-in page answers that it has expired', async () => {
      await assert.rejects(
        signInThroughFront(replicas, pkcePair().challenge),
        /expected a redirect, got 400: [\s\S]*expired or was already completed/,
      );
      assert.ok(
        replicas.served.some((s) => s.startsWith('b POST /oauth/interaction/')),
        replicas.served.join(', '),
      );
    });
  });

  describe('sharing the store but not the cookie keys', () => {
    let replicas: Replicas;
    before(async () => {
      replicas = await startReplicas(folder.path, replicaStore, {
        ...replicaStore,
        AUTH_COOKIES_KEYS: 'another-cookie-key-0000000000',
      });
    });
    after(() => replicas?.close());

    it("when a sign-in starts on A, then B rejects A's cookie and the sign-in fails", async () => {
      await assert.rejects(
        signInThroughFront(replicas, pkcePair().challenge),
        /expected a redirect, got 400: [\s\S]*expired or was already completed/,
      );
    });
  });
});
