import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@landscape/platform';
import { configRepo, freePort, testEnv } from '@landscape/platform/testing';
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
export async function startAuthServer(env: Record<string, string>, options: { now?: () => number } = {}): Promise<TestAuthServer> {
  const port = String(await freePort());
  const config = authServerService.loadConfig(testEnv('auth-server', 'sqlite', {
    ...devCredentials, ...testCookieKeys, SERVER_PORT: port, AUTH_PUBLIC_URL: `http://127.0.0.1:${port}`, ...env,
  }));
  let store: PayloadStore | undefined;
  const service = await createAuthServerService({ ...options, observeStore: (s) => { store = s; } })
    .start(config, { logger: createLogger('auth-server-test', 'silent') });
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

export async function requestToken(url: string, client: { id: string; secret: string }, form: Record<string, string>): Promise<TokenAnswer> {
  const response = await fetch(`${url}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}` },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export async function accessToken(url: string, client: { id: string; secret: string }, form: Record<string, string>): Promise<string> {
  const { status, body } = await requestToken(url, client, form);
  if (status !== 200 || typeof body['access_token'] !== 'string') throw new Error(`token request failed: ${status} ${JSON.stringify(body)}`);
  return body['access_token'];
}

/** A GET with headers fetch would not send as given (Host among them). */
export function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpGet(url, { headers }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { body += chunk; });
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
export async function signInAndConsent(go: ReturnType<typeof browserAt>, interaction: string, password = 'password'): Promise<string> {
  const next = async (response: Response) => {
    if (response.status !== 303) throw new Error(`expected a redirect, got ${response.status}: ${await response.text()}`);
    return response.headers.get('location') ?? '';
  };
  const toConsent = await next(await go(await next(await go(`${interaction}/login`, { username: 'magnus', password }))));
  const callback = new URL(await next(await go(await next(await go(`${toConsent}/confirm`, {})))));
  return callback.searchParams.get('code') ?? '';
}
