import type { EventEmitter } from 'node:events';
import Provider, {
  errors,
  type Client,
  type ClientMetadata,
  type KoaContextWithOIDC,
  type ResourceServer,
} from '@landscape/vendor/oidc-provider';
import type { Logger } from 'pino';
import type { AuthSettings, ClientSettings } from '../config.ts';
import type { SigningKey } from '../keys/signing-keys.ts';
import { decideScopes } from '../domain/scopes.ts';
import type { SignInThrottle } from '../domain/sign-in-throttle.ts';
import type { UserDirectory } from '../domain/users.ts';
import { errorPage, pageHeaders } from '../views/pages.ts';
import type { PayloadStore } from './store.ts';
import { passwordGrant } from './password-grant.ts';

/** Every endpoint lives under /oauth, so the edge routes one prefix (plus discovery) to this service. */
export const oauthPaths = {
  authorization: '/oauth/authorize',
  token: '/oauth/token',
  jwks: '/oauth/jwks',
  interaction: '/oauth/interaction',
  discovery: ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server'],
} as const;

export interface ResourcePolicy {
  indicator: string;
  info: ResourceServer;
  known: ReadonlySet<string>;
  /** The scopes a token request gets, or an invalid_scope error. */
  grantedScopes(requested: string | undefined, clientId: string): string[];
}

export function createResourcePolicy(settings: AuthSettings): ResourcePolicy {
  const resourceScopes = Object.keys(settings.scopes);
  const known = new Set(['openid', ...resourceScopes]);
  const allowed = new Map(settings.clients.map((c) => [c.id, c.scopes]));
  const allowedFor = (clientId: string) => allowed.get(clientId) ?? [];
  return {
    indicator: settings.resourceIndicator,
    info: {
      audience: settings.audience,
      scope: resourceScopes.join(' '),
      accessTokenFormat: 'jwt',
      accessTokenTTL: settings.accessTokenTtlSeconds,
      jwt: { sign: { alg: 'RS256' } },
    },
    known,
    grantedScopes(requested, clientId) {
      const decision = decideScopes(requested, ['openid', ...allowedFor(clientId)], known);
      if (!decision.ok) {
        throw new errors.InvalidScope(
          decision.reason === 'unknown'
            ? `requested scope ${decision.scope} is not supported`
            : `requested scope ${decision.scope} is not allowed for this client`,
          decision.scope,
        );
      }
      // openid names no access to the resource, so it never ends up in an access token.
      return decision.scopes.filter((s) => s !== 'openid');
    },
  };
}

function clientMetadata(client: ClientSettings, grants: { password: boolean }): ClientMetadata {
  if (client.public) {
    // Nothing to authenticate with but the PKCE verifier, which pkce.required demands of every client.
    return {
      client_id: client.id,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: client.redirectUris,
      scope: ['openid', ...client.scopes].join(' '),
      token_endpoint_auth_method: 'none',
    };
  }
  const browser = client.redirectUris.length > 0;
  return {
    client_id: client.id,
    client_secret: client.secret,
    grant_types: [
      'client_credentials',
      ...(browser ? ['authorization_code'] : []),
      ...(grants.password ? ['password'] : []),
    ],
    response_types: browser ? ['code'] : [],
    redirect_uris: client.redirectUris,
    scope: ['openid', ...client.scopes].join(' '),
    token_endpoint_auth_method: 'client_secret_basic',
  };
}

/**
 * The OAuth 2.0 / OpenID Connect provider: client_credentials, authorization_code with PKCE (sign-in
 * and consent pages at /oauth/interaction) and, where configuration enables it, the password grant.
 * Access tokens are RS256 JWTs for the one resource the landscape has.
 */
export function createProvider(
  settings: AuthSettings,
  deps: {
    keys: SigningKey[];
    cookieKeys: string[];
    users: UserDirectory;
    store: PayloadStore;
    throttle: SignInThrottle;
    logger: Logger;
  },
): Provider {
  const policy = createResourcePolicy(settings);
  const accessTokenTtl = (
    _ctx: KoaContextWithOIDC,
    token: { resourceServer?: { accessTokenTTL?: number | undefined } | undefined },
  ) => token.resourceServer?.accessTokenTTL ?? settings.accessTokenTtlSeconds;

  const provider = new Provider(settings.issuer, {
    adapter: deps.store.adapter,
    clients: settings.clients.map((c) => clientMetadata(c, { password: settings.passwordGrant })),
    // `none` only when a public client is configured; each client is held to its own one method.
    clientAuthMethods: ['client_secret_basic', ...(settings.clients.some((c) => c.public) ? ['none' as const] : [])],
    // Browser clients may call the token endpoint from the origins they are redirected to.
    clientBasedCORS: (_ctx, origin, client) =>
      (client.redirectUris ?? []).some((uri) => URL.parse(uri)?.origin === origin),
    claims: { openid: ['sub'] },
    // Signed session and interaction cookies: every replica has the same keys, so any of them can read them.
    cookies: { keys: deps.cookieKeys },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // Resource servers here check bearer tokens only; a DPoP-bound token would be accepted without its proof.
      dPoP: { enabled: false },
      // Every access token is for the product API, so a userinfo endpoint would never accept one.
      userinfo: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => policy.indicator,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, indicator, client) => {
          if (indicator !== policy.indicator) throw new errors.InvalidTarget();
          applyScopePolicy(ctx, client, policy);
          return policy.info;
        },
      },
    },
    findAccount: (_ctx, sub) => (deps.users.exists(sub) ? { accountId: sub, claims: () => ({ sub }) } : undefined),
    interactions: { url: (_ctx, interaction) => `${oauthPaths.interaction}/${interaction.uid}` },
    // Newest first: oidc-provider signs with the first key that fits, and publishes them all.
    jwks: { keys: [...deps.keys].reverse() },
    pkce: { required: () => true },
    renderError: (ctx, out) => {
      for (const [name, value] of Object.entries(pageHeaders)) ctx.set(name, value);
      ctx.type = 'html';
      ctx.body = errorPage(out['error'] ?? 'server_error', out['error_description']);
    },
    responseTypes: ['code'],
    routes: {
      authorization: oauthPaths.authorization,
      token: oauthPaths.token,
      jwks: oauthPaths.jwks,
      // Disabled features keep their paths under /oauth too.
      userinfo: '/oauth/userinfo',
      end_session: '/oauth/logout',
      revocation: '/oauth/revoke',
      introspection: '/oauth/introspect',
      registration: '/oauth/register',
      pushed_authorization_request: '/oauth/par',
      device_authorization: '/oauth/device/auth',
      code_verification: '/oauth/device',
      backchannel_authentication: '/oauth/backchannel',
      challenge: '/oauth/challenge',
      credential: '/oauth/credential',
    },
    scopes: [...policy.known],
    ttl: {
      AccessToken: accessTokenTtl,
      ClientCredentials: accessTokenTtl,
      AuthorizationCode: 60,
      IdToken: settings.accessTokenTtlSeconds,
      Interaction: 600,
      Session: settings.sessionTtlSeconds,
      Grant: settings.sessionTtlSeconds,
    },
  });
  // Endpoint URLs in discovery and redirects are built from the request's protocol and host: pin both to
  // the configured public URL, so no Host or X-Forwarded-* header can point clients elsewhere.
  provider.proxy = false;
  const publicProtocol = settings.publicUrl.protocol.slice(0, -1);
  const publicHost = settings.publicUrl.host;
  provider.use(async (ctx, next) => {
    Object.defineProperties(ctx.request, {
      protocol: { value: publicProtocol },
      host: { value: publicHost },
      hostname: { value: settings.publicUrl.hostname },
    });
    await next();
  });

  const discoveryPaths: ReadonlySet<string> = new Set(oauthPaths.discovery);
  provider.use(async (ctx, next) => {
    await next();
    // The legacy grant is usable where enabled but never offered: new clients should not pick it up.
    const body = ctx.body as { grant_types_supported?: unknown } | undefined;
    if (discoveryPaths.has(ctx.path) && body && Array.isArray(body.grant_types_supported)) {
      body.grant_types_supported = body.grant_types_supported.filter((grant) => grant !== 'password');
    }
  });

  if (settings.passwordGrant) {
    provider.registerGrantType(
      'password',
      passwordGrant(provider, { users: deps.users, throttle: deps.throttle, policy }),
      ['username', 'password', 'scope'],
    );
  }

  provider.on('server_error', (ctx, error) =>
    deps.logger.error({ err: error, path: ctx.path }, 'oauth request failed'),
  );
  // Koa's own event (the types list only oidc-provider's): an error no middleware handled.
  (provider as EventEmitter).on('error', (error: unknown) => deps.logger.error({ err: error }, 'oauth request failed'));
  return provider;
}

/**
 * oidc-provider lets unknown scopes pass silently and gives a client_credentials request without a
 * scope an empty one; here an unknown scope is invalid_scope and no scope means the client's own.
 * This hook runs on every authorization and token request, before oidc-provider reads the scope.
 */
function applyScopePolicy(ctx: KoaContextWithOIDC, client: Client, policy: ResourcePolicy): void {
  const { route } = ctx.oidc;
  const params = ctx.oidc.params ?? {};
  const requested = typeof params['scope'] === 'string' ? params['scope'] : undefined;
  if (route === 'token' && params['grant_type'] === 'client_credentials') {
    params['scope'] = policy.grantedScopes(requested, client.clientId).join(' ');
  } else if (requested !== undefined) {
    policy.grantedScopes(requested, client.clientId);
  }
}
