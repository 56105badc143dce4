import { errors, type KoaContextWithOIDC, type Provider } from '@landscape/vendor/oidc-provider';
import type { SignInThrottle } from '../domain/sign-in-throttle.ts';
import type { UserDirectory } from '../domain/users.ts';
import type { ResourcePolicy } from './provider.ts';

/**
 * The legacy resource-owner password grant (RFC 6749 §4.3), kept for the original walkthrough and
 * registered only where configuration enables it. The client has already been authenticated.
 */
export function passwordGrant(
  provider: Provider,
  deps: { users: UserDirectory; throttle: SignInThrottle; policy: ResourcePolicy },
) {
  return async function handle(ctx: KoaContextWithOIDC): Promise<void> {
    const { client } = ctx.oidc;
    const { username, password, scope } = ctx.oidc.params ?? {};
    if (typeof username !== 'string' || username === '' || typeof password !== 'string' || password === '') {
      throw new errors.InvalidRequest('missing required parameter(s) username, password');
    }
    if (!client) throw new errors.InvalidRequest('client authentication is required');
    const scopes = deps.policy.grantedScopes(typeof scope === 'string' ? scope : undefined, client.clientId);
    const attempt = { client: client.clientId, user: username };
    const wait = deps.throttle.retryAfter(attempt);
    if (wait > 0) {
      // Not checked at all while throttled, so a guess that happens to be right tells nothing either.
      ctx.set('Retry-After', String(wait));
      throw Object.assign(
        new errors.CustomOIDCProviderError('invalid_grant', 'too many failed attempts, try again later'),
        { status: 429, statusCode: 429 },
      );
    }
    const accountId = deps.users.authenticate(username, password);
    if (accountId === undefined) {
      deps.throttle.failed(attempt);
      throw new errors.CustomOIDCProviderError('invalid_grant', 'invalid username or password');
    }
    deps.throttle.succeeded(attempt);

    // No grant stands behind this token (the types ask for a grantId that this grant has none of).
    const fields = { accountId, client, gty: 'password', scope: scopes.join(' ') || undefined };
    const token = new provider.AccessToken(fields as ConstructorParameters<typeof provider.AccessToken>[0]);
    token.resourceServer = new provider.ResourceServer(deps.policy.indicator, deps.policy.info);
    ctx.oidc.entity('AccessToken', token);
    const accessToken = await token.save();
    ctx.body = {
      access_token: accessToken,
      expires_in: token.expiration,
      token_type: token.tokenType,
      ...(token.scope ? { scope: token.scope } : {}),
    };
  };
}
