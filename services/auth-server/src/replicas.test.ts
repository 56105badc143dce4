import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createClient } from '@redis/client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { createLogger } from '@landscape/platform';
import { resetTestDatabase, testDatabaseName } from '@landscape/platform/testing';
import {
  authorizationUrl, browserAt, pkcePair, requestToken, signInAndConsent, startAuthServer, temporaryFolder, type TestAuthServer,
} from './test-support.ts';

const writer = { id: 'writer', secret: 'secret' };
const redirectUri = 'https://my.redirect.uri';

/** Both replicas on the machine's PostgreSQL, in a test database of their own. */
const postgres = {
  DATABASE_KIND: 'postgres', DATABASE_HOST: '127.0.0.1', DATABASE_PORT: '5432', DATABASE_USERNAME: 'postgres',
  DATABASE_DATABASE: testDatabaseName('auth_replicas'),
};

interface Replicas {
  a: TestAuthServer;
  b: TestAuthServer;
  /** The one origin the browser sees, in front of both, as a Service or an Ingress is. */
  publicUrl: string;
  /** Which replica answered each request through the front: `a GET /oauth/authorize`. */
  served: string[];
  close(): Promise<void>;
}

/**
 * Two auth servers behind one origin that sends the sign-in pages (/oauth/interaction/…) to B and
 * everything else to A, so a sign-in is started on one replica and finished on the other, every time.
 * One origin is what a browser sees in front of replicas; it also keeps the cookies' host one.
 */
async function startReplicas(folder: string, envA: Record<string, string>, envB: Record<string, string>): Promise<Replicas> {
  const served: string[] = [];
  const backends: { a?: TestAuthServer; b?: TestAuthServer } = {};
  const front: Server = createServer((request, response) => {
    const name = request.url?.startsWith('/oauth/interaction') ? 'b' : 'a';
    const target = new URL(backends[name]?.url ?? 'http://127.0.0.1:9');
    served.push(`${name} ${request.method} ${request.url?.split('?')[0]}`);
    const upstream = httpRequest({ host: target.hostname, port: target.port, method: request.method, path: request.url, headers: request.headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', () => response.writeHead(502).end());
    request.pipe(upstream);
  });
  await new Promise<void>((done) => front.listen(0, '127.0.0.1', done));
  const publicUrl = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  // The same signing key for both, as a Secret gives it to every replica: the first creates the file.
  const shared = { AUTH_PUBLIC_URL: publicUrl, AUTH_KEYS_FILE: join(folder, 'jwks.json') };
  backends.a = await startAuthServer({ ...shared, ...envA });
  backends.b = await startAuthServer({ ...shared, ...envB });
  const { a, b } = backends;
  return {
    a, b, publicUrl, served,
    async close() {
      await Promise.all([a.close(), b.close()]);
      front.closeAllConnections();
      await new Promise((done) => front.close(done));
    },
  };
}

/** A sign-in through the front, then the code redeemed on A for a token that B's published keys verify. */
async function signInAndRedeem(replicas: Replicas): Promise<void> {
  const { verifier, challenge } = pkcePair();
  const code = await signInThroughFront(replicas, challenge);
  assert.ok(replicas.served.includes('a GET /oauth/authorize'), replicas.served.join(', '));
  assert.ok(replicas.served.some((s) => /^b POST \/oauth\/interaction\/[\w-]+\/login$/.test(s)), replicas.served.join(', '));
  assert.ok(replicas.served.some((s) => /^b POST \/oauth\/interaction\/[\w-]+\/confirm$/.test(s)), replicas.served.join(', '));

  const answer = await requestToken(replicas.a.url, writer, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const { payload } = await jwtVerify(String(answer.body['access_token']), createRemoteJWKSet(new URL(`${replicas.b.url}/oauth/jwks`)), {
    issuer: replicas.a.issuer, audience: 'product-composite',
  });
  assert.equal(payload.sub, 'magnus');
  assert.equal(payload['scope'], 'product:read product:write');

  const replayed = await requestToken(replicas.b.url, writer, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
  assert.equal(replayed.status, 400, 'a code redeemed on A is spent on B too');
  assert.equal(replayed.body['error'], 'invalid_grant');
}

/** The browser's part: authorize through the front, sign in and consent; the code the flow ends with. */
async function signInThroughFront(replicas: Replicas, challenge: string): Promise<string> {
  const go = browserAt(replicas.publicUrl);
  const started = await go(authorizationUrl(replicas.publicUrl, { clientId: 'writer', redirectUri, scope: 'openid product:read product:write', state: 'x', challenge }));
  assert.equal(started.status, 303);
  return signInAndConsent(go, started.headers.get('location') ?? '');
}

describe('auth-server replicas', () => {
  const folder = temporaryFolder();
  before(() => resetTestDatabase({ kind: 'postgres', host: '127.0.0.1', port: 5432, username: 'postgres', database: postgres.DATABASE_DATABASE, poolSize: 1, connectTimeoutMs: 5000 }, createLogger('replicas-test', 'silent')));
  after(() => folder.remove());

  describe('sharing the PostgreSQL store and the cookie keys', () => {
    let replicas: Replicas;
    before(async () => { replicas = await startReplicas(folder.path, postgres, postgres); });
    after(() => replicas?.close());

    it('when a sign-in starts on replica A and the sign-in and consent pages are answered by B, then the code redeems on A for a token that B\'s keys verify', async () => {
      await signInAndRedeem(replicas);
    });
  });

  describe('sharing a Redis store and the cookie keys', () => {
    const redis = { AUTH_STORE_KIND: 'redis', AUTH_STORE_REDIS_URL: 'redis://127.0.0.1:6379', AUTH_STORE_REDIS_KEY_PREFIX: `auth-server-test:${testDatabaseName('replicas')}:${randomUUID()}:` };
    let replicas: Replicas;
    before(async () => { replicas = await startReplicas(folder.path, redis, redis); });
    after(async () => {
      await replicas?.close();
      const admin = createClient({ url: redis.AUTH_STORE_REDIS_URL });
      await admin.connect();
      for await (const keys of admin.scanIterator({ MATCH: `${redis.AUTH_STORE_REDIS_KEY_PREFIX}*` })) if (keys.length > 0) await admin.del(keys);
      await admin.close();
    });

    it('when a sign-in starts on A and is finished on B, then the code redeems on A, and readiness reports Redis', async () => {
      await signInAndRedeem(replicas);
      const health = (await (await fetch(`${replicas.b.url}/actuator/health/readiness`)).json()) as { components?: Record<string, { status: string }> };
      assert.equal(health.components?.['redis']?.status, 'UP', JSON.stringify(health));
    });
  });

  describe('each with a memory store of its own', () => {
    let replicas: Replicas;
    before(async () => { replicas = await startReplicas(folder.path, { AUTH_STORE_KIND: 'memory' }, { AUTH_STORE_KIND: 'memory' }); });
    after(() => replicas?.close());

    it('when a sign-in starts on A, then B does not know it and the sign-in page answers that it has expired', async () => {
      await assert.rejects(signInThroughFront(replicas, pkcePair().challenge), /expected a redirect, got 400: [\s\S]*expired or was already completed/);
      assert.ok(replicas.served.some((s) => s.startsWith('b POST /oauth/interaction/')), replicas.served.join(', '));
    });
  });

  describe('sharing the store but not the cookie keys', () => {
    let replicas: Replicas;
    before(async () => { replicas = await startReplicas(folder.path, postgres, { ...postgres, AUTH_COOKIES_KEYS: 'another-cookie-key-0000000000' }); });
    after(() => replicas?.close());

    it('when a sign-in starts on A, then B rejects A\'s cookie and the sign-in fails', async () => {
      await assert.rejects(signInThroughFront(replicas, pkcePair().challenge), /expected a redirect, got 400: [\s\S]*expired or was already completed/);
    });
  });
});
