import { hash } from 'node:crypto';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from '@landscape/vendor/jose';
import { Type, type Static } from '@landscape/vendor/typebox';
import { errorMessage, HttpError } from '../errors.ts';

/** How access tokens are verified; shared with the storefront's operator summary, which verifies them the same way. */
export const securityConfigSchema = Type.Object({
  jwksUrl: Type.String({ minLength: 1 }),
  issuer: Type.String({ minLength: 1 }),
  audience: Type.String({ minLength: 1, default: 'product-composite' }),
  algorithms: Type.Array(Type.String(), { minItems: 1, default: ['RS256'] }),
  clockSkewSeconds: Type.Integer({ minimum: 0, maximum: 300, default: 5 }),
  cacheMaxEntries: Type.Integer({ minimum: 1, default: 10000 }),
  maxTokenLength: Type.Integer({ minimum: 100, default: 8192 }),
});

export type SecuritySettings = Static<typeof securityConfigSchema>;

export interface Principal {
  subject: string;
  scopes: Set<string>;
}

/** 401 with the RFC 6750 challenge, in the contract's error shape. */
const unauthorized = (message: string, error?: string) =>
  new HttpError(401, message, {
    'www-authenticate': error
      ? `Bearer error="${error}", error_description="${message.replace(/[^\x20-\x7e]|"/g, "'")}"`
      : 'Bearer',
  });

/**
 * Verifies JWT access tokens against the auth server's JWKS: RS256 family only, issuer, audience,
 * `typ: at+jwt`, expiry, not-before and issued-at with a small skew. Keys come only from the configured
 * JWKS URL, never from a token's own headers (`jku`, `x5u`, embedded `jwk`). Verified tokens are cached
 * until they expire.
 */
export function createTokenVerifier(settings: SecuritySettings, now: () => number = Date.now) {
  const jwks = createRemoteJWKSet(new URL(settings.jwksUrl), { timeoutDuration: 2000, cooldownDuration: 30000 });
  const cache = new Map<string, { principal: Principal; expiresAt: number }>();

  function remember(key: string, principal: Principal, exp: number): void {
    if (cache.size >= settings.cacheMaxEntries) {
      for (const [k, v] of cache) if (v.expiresAt <= now()) cache.delete(k);
      // Still full: drop the oldest entry (Map keeps insertion order).
      if (cache.size >= settings.cacheMaxEntries) cache.delete(cache.keys().next().value as string);
    }
    cache.set(key, { principal, expiresAt: exp * 1000 });
  }

  return async function verify(authorization: string | undefined): Promise<Principal> {
    if (!authorization) throw unauthorized('Full authentication is required to access this resource');
    const match = /^Bearer ([A-Za-z0-9\-_.]+)$/.exec(authorization);
    if (!match?.[1]) throw unauthorized('Malformed Authorization header: expected "Bearer <token>"', 'invalid_request');
    const token = match[1];
    if (token.length > settings.maxTokenLength) throw unauthorized('Access token too large', 'invalid_token');

    // The one-shot hash: no Hash object per request for what is the hot path's cache lookup.
    const key = hash('sha256', token, 'base64url');
    const cached = cache.get(key);
    if (cached && cached.expiresAt > now()) return cached.principal;
    if (cached) cache.delete(key);

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, {
        issuer: settings.issuer,
        audience: settings.audience,
        algorithms: settings.algorithms,
        clockTolerance: settings.clockSkewSeconds,
        typ: 'at+jwt',
        requiredClaims: ['exp', 'iat', 'sub'],
        currentDate: new Date(now()),
      }));
    } catch (error) {
      // The keys could not be had: the token may be fine, so this is not the client's fault.
      if (
        !(error instanceof errors.JOSEError) ||
        error instanceof errors.JWKSTimeout ||
        error instanceof errors.JWKSInvalid
      ) {
        throw new HttpError(503, 'Token verification keys are unavailable, try again later');
      }
      throw unauthorized(`Invalid access token: ${describe(error)}`, 'invalid_token');
    }
    // jose checks nbf against the skew but lets any iat pass: a token issued "later" than now is forged or
    // from a clock gone wrong, and would outlive the lifetime the issuer meant it to have.
    if ((payload.iat as number) > now() / 1000 + settings.clockSkewSeconds) {
      throw unauthorized('Invalid access token: iat: the token is issued in the future', 'invalid_token');
    }
    const scope = typeof payload['scope'] === 'string' ? payload['scope'] : '';
    const principal = { subject: String(payload.sub), scopes: new Set(scope.split(' ').filter(Boolean)) };
    remember(key, principal, payload.exp as number);
    return principal;
  };
}

/** A short reason without echoing the token back. */
function describe(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string'
    ? `${code.replace(/^ERR_/, '').toLowerCase()}: ${errorMessage(error)}`
    : 'could not be verified';
}

export function requireScope(principal: Principal, scope: string): void {
  if (!principal.scopes.has(scope)) {
    throw new HttpError(403, `Access denied: the token lacks the scope ${scope}`, {
      'www-authenticate': `Bearer error="insufficient_scope", error_description="requires ${scope}", scope="${scope}"`,
    });
  }
}
