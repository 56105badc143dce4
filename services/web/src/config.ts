import { Type, type Static } from '@landscape/vendor/typebox';
import { serviceConfigProperties } from '@landscape/platform';
import { securityConfigSchema } from '@landscape/platform/auth';

export const webConfigSchema = Type.Object({
  ...serviceConfigProperties,
  web: Type.Object({
    /** The auth server's public client the storefront signs in as (authorization code with PKCE). */
    clientId: Type.String({ minLength: 1 }),
    /** Service name -> its internal base URL, whose liveness and readiness the operator page shows. */
    services: Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1 })),
    /** Where product-composite's circuit breaker is read (its health and transitions). */
    compositeUrl: Type.String({ minLength: 1 }),
    /** A service that has not answered its probe by then counts as unreachable. */
    checkTimeoutMs: Type.Integer({ minimum: 1, default: 2000 }),
  }),
  /** The operator summary is for signed-in users: their access tokens are verified as the composite does. */
  security: securityConfigSchema,
});
export type WebConfig = Static<typeof webConfigSchema>;
