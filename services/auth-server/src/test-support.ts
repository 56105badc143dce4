import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, get as httpGet, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@landscape/platform';
import { configRepo, freePort, resetTestDatabase, testDatabaseName, testEnv } from '@landscape/platform/testing';
import type { PayloadStore } from './oauth/store.ts';
import { authServerService, createAuthServerService } from './service.ts';

/** The development credentials, as dev.env gives them to a local auth server. */
export const devCredentials = {
  AUTH_CLIENT_SECRETS: JSON.stringify({ reader: 'secret', writer: 'secret' }),
  AUTH_USER_PASSWORDS: JSON.stringify({ magnus: 'password' }),
};

/** Cookie keys a test gives every instance it starts, as a Secret gives them to every replica. */
export const testCookieKeys = { AUTH_COOKIES_KEYS: 'cookie-key-for-tests-only-0001' };

export interface TestAuthServer {
  url: string;
  issuer: string;
  /** Where the provider keeps its state. */
  store: PayloadStore;
  close(): Promise<void>;
}

/**
 * Starts the auth server the way its own process would, on a free port with config-repo's configuration;
 * its public URL is where the test reaches it, unless env names another.
 */
export async function startAuthServer(
  env: Record<string, string>,
  options: { now?: () => number } = {},
): Promise<TestAuthServer> {
  const port = String(await freePort());
  const config = authServerService.loadConfig(
    testEnv('auth-server', 'sqlite', {
      ...devCredentials,
      ...testCookieKeys,
      SERVER_PORT: port,
      AUTH_PUBLIC_URL: `http://127.0.0.1:${port}`,
      ...env,
    }),
  );
  let store: PayloadStore | undefined;
  const service = await createAuthServerService({
    ...options,
    observeStore: (s) => {
      store = s;
    },
  }).start(config, { logger: createLogger('auth-server-test', 'silent') });
  if (!store) throw new Error('the auth server did not build its store');
  return { url: service.url, issuer: config.auth.issuer, store, close: () => service.close() };
}

/** A folder under the OS temp folder, removed by the returned function. */
export function temporaryFolder(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'auth-server-test-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** CONFIG_LOCATION with an extra YAML file after config-repo, for what env vars cannot say (map entries). */
export function configWithOverlay(folder: string, yaml: string): string {
  const file = join(folder, 'overlay.yml');
  writeFileSync(file, yaml);
  return `${configRepo},${file}`;
}

export interface TokenAnswer {
  status: number;
  body: Record<string, unknown>;
}

export async function requestToken(
  url: string,
  client: { id: string; secret: string },
  form: Record<string, string>,
): Promise<TokenAnswer> {
  const response = await fetch(`${url}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}` },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export async function accessToken(
  url: string,
  client: { id: string; secret: string },
  form: Record<string, string>,
): Promise<string> {
  const { status, body } = await requestToken(url, client, form);
  if (status !== 200 || typeof body['access_token'] !== 'string')
    throw new Error(`token request failed: ${status} ${JSON.stringify(body)}`);
  return body['access_token'];
}

/** A GET with headers fetch would not send as given (Host among them). */
export function rawGet(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpGet(url, { headers }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    request.on('error', reject);
  });
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function authorizationUrl(
  url: string,
  params: { clientId: string; redirectUri: string; scope: string; state: string; challenge?: string },
): string {
  const query = new URLSearchParams({
    client_id: params.clientId,
    response_type: 'code',
    redirect_uri: params.redirectUri,
    scope: params.scope,
    state: params.state,
    ...(params.challenge ? { code_challenge: params.challenge, code_challenge_method: 'S256' } : {}),
  });
  return `${url}/oauth/authorize?${query}`;
}

/** A browser's cookies, reduced to what these tests need: one origin, names only, deletions honoured. */
export class CookieJar {
  readonly #cookies = new Map<string, string>();

  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(';', 1)[0] ?? '';
      const at = pair.indexOf('=');
      const [name, value] = [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/** A browser reduced to its cookies and manual redirects, against one server. */
export function browserAt(base: string) {
  const jar = new CookieJar();
  return async (url: string, fields?: Record<string, string>): Promise<Response> => {
    const response = await fetch(new URL(url, base), {
      redirect: 'manual',
      headers: { cookie: jar.header() },
      ...(fields ? { method: 'POST', body: new URLSearchParams(fields) } : {}),
    });
    jar.store(response);
    return response;
  };
}

/** The authorization-code flow from an interaction page on: sign-in, consent, and the code it ends with. */
export async function signInAndConsent(
  go: ReturnType<typeof browserAt>,
  interaction: string,
  password = 'password',
): Promise<string> {
  const next = async (response: Response) => {
    if (response.status !== 303)
      throw new Error(`expected a redirect, got ${response.status}: ${await response.text()}`);
    return response.headers.get('location') ?? '';
  };
  const toConsent = await next(
    await go(await next(await go(`${interaction}/login`, { username: 'magnus', password }))),
  );
  const callback = new URL(await next(await go(await next(await go(`${toConsent}/confirm`, {})))));
  return callback.searchParams.get('code') ?? '';
}

/** The store replicas share in tests: the machine's PostgreSQL, a test database of their own. */
export const replicaStore = {
  DATABASE_KIND: 'postgres',
  DATABASE_HOST: '127.0.0.1',
  DATABASE_PORT: '5432',
  DATABASE_USERNAME: 'postgres',
  DATABASE_DATABASE: testDatabaseName('auth_replicas'),
};

export interface Replicas {
  a: TestAuthServer;
  b: TestAuthServer;
  /** The one origin the browser sees, in front of both, as a Service or an Ingress is. */
  publicUrl: string;
  /** Which replica answered each request through the front: `a GET /oauth/authorize`. */
  served: string[];
  close(): Promise<void>;
}

/** Empties the replicas' store, so a run starts with no sign-ins left from another. */
export function resetReplicaStore(): Promise<void> {
  return resetTestDatabase(
    {
      kind: 'postgres',
      host: '127.0.0.1',
      port: 5432,
      username: 'postgres',
      database: replicaStore.DATABASE_DATABASE,
      poolSize: 1,
      connectTimeoutMs: 5000,
    },
    createLogger('replicas-test', 'silent'),
  );
}

/**
 * Two auth servers behind one origin that sends the sign-in pages (/oauth/interaction/…) to B and
 * everything else to A, so a sign-in is started on one replica and finished on the other, every time.
 * One origin is what a browser sees in front of replicas; it also keeps the cookies' host one.
 */
export async function startReplicas(
  folder: string,
  envA: Record<string, string>,
  envB: Record<string, string>,
): Promise<Replicas> {
  const served: string[] = [];
  const backends: { a?: TestAuthServer; b?: TestAuthServer } = {};
  const front: Server = createServer((request, response) => {
    const name = request.url?.startsWith('/oauth/interaction') ? 'b' : 'a';
    const target = new URL(backends[name]?.url ?? 'http://127.0.0.1:9');
    served.push(`${name} ${request.method} ${request.url?.split('?')[0]}`);
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: request.method, path: request.url, headers: request.headers },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
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
    a,
    b,
    publicUrl,
    served,
    async close() {
      await Promise.all([a.close(), b.close()]);
      front.closeAllConnections();
      await new Promise((done) => front.close(done));
    },
  };
}

/** The sign-in was started on A and its sign-in and consent steps were answered by B. */
export function assertCrossedReplicas(replicas: Replicas): void {
  assert.ok(replicas.served.includes('a GET /oauth/authorize'), replicas.served.join(', '));
  assert.ok(
    replicas.served.some((s) => /^b POST \/oauth\/interaction\/[\w-]+\/login$/.test(s)),
    replicas.served.join(', '),
  );
  assert.ok(
    replicas.served.some((s) => /^b POST \/oauth\/interaction\/[\w-]+\/confirm$/.test(s)),
    replicas.served.join(', '),
  );
}
