import { Type, type Static } from '@landscape/vendor/typebox';
import { ConfigError, databaseConfigSchema, envName, serviceConfigProperties } from '@landscape/platform';
import type { SignInThrottleSettings } from './domain/sign-in-throttle.ts';

const scopeName = '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$';

export const authServerConfigSchema = Type.Object({
  // No messaging section: the auth server publishes and consumes nothing, so it gets no bus.
  ...serviceConfigProperties,
  /** Where the `database` store keeps its entries (PostgreSQL, or SQLite in the all-in-one process). */
  database: Type.Optional(databaseConfigSchema),
  auth: Type.Object({
    /** The `iss` of every token; resource servers compare it with their own configuration. */
    issuer: Type.String({ minLength: 1 }),
    /**
     * Where clients reach this server (the edge, an Ingress): discovery's endpoints and the sign-in
     * flow's redirects are under it. Only configuration names it, never a request's Host or
     * X-Forwarded-* headers, which anyone can set. Defaults to the issuer.
     */
    publicUrl: Type.Optional(Type.String({ minLength: 1 })),
    /** The `aud` of every access token. */
    audience: Type.String({ minLength: 1 }),
    /** The RFC 8707 resource indicator naming that audience; every token is for it unless asked otherwise. */
    resourceIndicator: Type.String({ minLength: 1 }),
    accessTokenTtlSeconds: Type.Integer({ minimum: 1, default: 3600 }),
    /** How long sign-in sessions and consents last. */
    sessionTtlSeconds: Type.Integer({ minimum: 60, default: 8 * 3600 }),
    /** scope -> the text the consent page shows for it. */
    scopes: Type.Record(Type.String({ pattern: scopeName }), Type.String({ minLength: 1 })),
    clients: Type.Record(
      Type.String({ minLength: 1 }),
      Type.Object({
        /** Space-separated scopes the client may ask for; what it gets when it names none. */
        scope: Type.String({ minLength: 1 }),
        /**
         * Where the authorization-code flow may return; none means the client has no browser flow. A path
         * (`/store/`) is on publicUrl, so a page served by the same edge needs no per-host setting.
         */
        redirectUris: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
        /**
         * A browser application that cannot keep a secret: authorization code with PKCE only, no client
         * authentication at the token endpoint, no other grant. It needs redirect URIs and has no secret.
         */
        public: Type.Optional(Type.Boolean()),
      }),
    ),
    /** Credentials, only ever from the environment: JSON objects client id -> secret, username -> password. */
    clientSecrets: Type.Optional(Type.String()),
    userPasswords: Type.Optional(Type.String()),
    /**
     * Where interactions, sessions, grants and codes live: `database` (the service's database, shared by
     * every replica), `redis` (shared too) or `memory` (this process only: one replica). Anyone can start
     * a sign-in, so each kind holds at most maxEntriesPerKind entries; the one nearest its end goes first.
     */
    store: Type.Object(
      {
        kind: Type.Union([Type.Literal('database'), Type.Literal('redis'), Type.Literal('memory')], {
          default: 'database',
        }),
        maxEntriesPerKind: Type.Integer({ minimum: 1, default: 10000 }),
        redis: Type.Object(
          {
            url: Type.String({ minLength: 1, default: 'redis://127.0.0.1:6379' }),
            /** A credential, from the environment only. */
            password: Type.Optional(Type.String()),
            keyPrefix: Type.String({ default: 'auth-server:' }),
          },
          { default: {} },
        ),
      },
      { default: {} },
    ),
    /**
     * The keys that sign the session and interaction cookies, newest first (the first signs, all verify).
     * Every replica needs the same ones, so they come from a Secret (`keys`); where `generate` is on
     * (development) a file of them is created at the first start and reused.
     */
    cookies: Type.Object(
      {
        keys: Type.Optional(Type.Array(Type.String())),
        file: Type.String({ minLength: 1, default: 'data/auth-server/cookie-keys.json' }),
        generate: Type.Boolean({ default: false }),
      },
      { default: {} },
    ),
    /** Failed password checks (sign-in page and password grant) allowed per username and per client in a window. */
    signInThrottle: Type.Object(
      {
        maxFailuresPerUser: Type.Integer({ minimum: 1, default: 10 }),
        maxFailuresPerClient: Type.Integer({ minimum: 1, default: 100 }),
        windowSeconds: Type.Integer({ minimum: 1, default: 300 }),
        maxTracked: Type.Integer({ minimum: 1, default: 10000 }),
      },
      { default: {} },
    ),
    /** The legacy resource-owner password grant; off unless configuration turns it on. */
    passwordGrant: Type.Object({ enabled: Type.Boolean({ default: false }) }, { default: {} }),
    keys: Type.Object(
      {
        /** A private JWK set (a Secret); when given, the file is not used. */
        jwks: Type.Optional(Type.String()),
        /** A private JWK set file, oldest key first: the last key signs, the others stay published. */
        file: Type.String({ minLength: 1, default: 'data/auth-server/jwks.json' }),
        /** Create the file with a new key when it does not exist (development). */
        generate: Type.Boolean({ default: false }),
      },
      { default: {} },
    ),
  }),
});
export type AuthServerConfig = Static<typeof authServerConfigSchema>;
export type SigningKeyConfig = AuthServerConfig['auth']['keys'];
export type CookieKeyConfig = AuthServerConfig['auth']['cookies'];
export type StoreConfig = AuthServerConfig['auth']['store'];

export interface ClientSettings {
  id: string;
  /** Undefined for a public client, which authenticates with nothing but its PKCE verifier. */
  secret: string | undefined;
  public: boolean;
  scopes: string[];
  redirectUris: string[];
}

/** The auth configuration checked beyond what the schema can say, with the credentials parsed. */
export interface AuthSettings {
  issuer: string;
  /** The origin clients reach this server at, e.g. `https://minikube.me`. */
  publicUrl: URL;
  audience: string;
  resourceIndicator: string;
  accessTokenTtlSeconds: number;
  sessionTtlSeconds: number;
  scopes: Record<string, string>;
  clients: ClientSettings[];
  userPasswords: Record<string, string>;
  passwordGrant: boolean;
  signInThrottle: SignInThrottleSettings;
}

export function resolveAuthSettings(auth: AuthServerConfig['auth']): AuthSettings {
  checkUrl('auth.issuer', auth.issuer, { web: true, query: false });
  if (auth.publicUrl !== undefined) checkUrl('auth.publicUrl', auth.publicUrl, { web: true, query: false });
  const publicUrl = new URL(auth.publicUrl ?? auth.issuer);
  if (publicUrl.pathname !== '/' || publicUrl.username !== '' || publicUrl.password !== '') {
    throw new ConfigError(
      `Invalid configuration key auth.publicUrl: must be an origin such as https://example.org, without a path (${publicUrl.href})`,
    );
  }
  checkUrl('auth.resourceIndicator', auth.resourceIndicator, { web: false });
  const secrets = parseCredentials('auth.clientSecrets', auth.clientSecrets);
  const clients = Object.entries(auth.clients).map(([id, client]): ClientSettings => {
    const scopes = client.scope.split(' ').filter(Boolean);
    const unknown = scopes.find((scope) => !(scope in auth.scopes));
    if (unknown !== undefined) {
      throw new ConfigError(`Invalid configuration key auth.clients.${id}.scope: ${unknown} is not one of auth.scopes`);
    }
    const redirectUris = client.redirectUris.map((uri) =>
      uri.startsWith('/') && !uri.startsWith('//') ? new URL(uri, publicUrl).href : uri,
    );
    redirectUris.forEach((uri, i) => {
      checkUrl(`auth.clients.${id}.redirectUris.${i}`, uri, { web: true });
    });
    const secret = secrets[id];
    if (client.public === true) {
      if (redirectUris.length === 0)
        throw new ConfigError(
          `Invalid configuration key auth.clients.${id}.redirectUris: a public client needs at least one`,
        );
      if (secret !== undefined)
        throw new ConfigError(
          `Invalid configuration key auth.clientSecrets.${id}: ${id} is a public client, which has no secret`,
        );
      return { id, secret: undefined, public: true, scopes, redirectUris };
    }
    if (secret === undefined || secret.length === 0) {
      throw new ConfigError(
        `Missing configuration key: auth.clientSecrets.${id} (set ${envName('auth.clientSecrets')} to a JSON object of client id to secret)`,
      );
    }
    return { id, secret, public: false, scopes, redirectUris };
  });
  if (clients.length === 0) throw new ConfigError('Missing configuration key: auth.clients (at least one client)');
  return {
    issuer: auth.issuer,
    publicUrl,
    audience: auth.audience,
    resourceIndicator: auth.resourceIndicator,
    accessTokenTtlSeconds: auth.accessTokenTtlSeconds,
    sessionTtlSeconds: auth.sessionTtlSeconds,
    scopes: auth.scopes,
    clients,
    userPasswords: parseCredentials('auth.userPasswords', auth.userPasswords),
    passwordGrant: auth.passwordGrant.enabled,
    signInThrottle: auth.signInThrottle,
  };
}

function checkUrl(key: string, value: string, { web, query = true }: { web: boolean; query?: boolean }): void {
  const url = URL.parse(value);
  const problem =
    url === null
      ? 'not an absolute URL'
      : web && url.protocol !== 'http:' && url.protocol !== 'https:'
        ? 'must be an http or https URL'
        : !query && (url.search !== '' || value.includes('?'))
          ? 'must not have a query'
          : url.hash !== '' || value.endsWith('#')
            ? 'must not have a fragment'
            : undefined;
  if (problem) throw new ConfigError(`Invalid configuration key ${key}: ${problem} (${value})`);
}

/** A JSON object of names to non-empty strings; never echoes the value, which holds secrets. */
function parseCredentials(key: string, raw: string | undefined): Record<string, string> {
  if (raw === undefined || raw.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(`Invalid configuration key ${key}: not valid JSON (env ${envName(key)})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(
      `Invalid configuration key ${key}: must be a JSON object of names to strings (env ${envName(key)})`,
    );
  }
  for (const [name, value] of Object.entries(parsed)) {
    if (typeof value !== 'string' || value.length === 0) {
      throw new ConfigError(
        `Invalid configuration key ${key}.${name}: must be a non-empty string (env ${envName(key)})`,
      );
    }
  }
  return parsed as Record<string, string>;
}
