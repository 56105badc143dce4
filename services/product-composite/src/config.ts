import { Type, type Static } from '@landscape/vendor/typebox';
import { messagingConfigSchema, serviceConfigProperties } from '@landscape/platform';
import { securityConfigSchema } from '@landscape/platform/auth';

const Ms = (defaultValue: number) => Type.Integer({ minimum: 0, default: defaultValue });

export const compositeConfigSchema = Type.Object({
  ...serviceConfigProperties,
  /** Where the POST and DELETE of a composite publish their events. */
  messaging: messagingConfigSchema,
  /** Base URLs of the core services: Kubernetes Service names in a cluster, localhost ports on a laptop. */
  services: Type.Object({
    productUrl: Type.String({ minLength: 1 }),
    recommendationUrl: Type.String({ minLength: 1 }),
    reviewUrl: Type.String({ minLength: 1 }),
  }),
  resilience: Type.Object(
    {
      timeoutMs: Ms(2000),
      retry: Type.Object({ maxAttempts: Type.Integer({ minimum: 1, default: 3 }), waitMs: Ms(1000) }, { default: {} }),
      circuitBreaker: Type.Object(
        {
          windowSize: Type.Integer({ minimum: 1, default: 5 }),
          failureRateThreshold: Type.Number({ minimum: 1, maximum: 100, default: 50 }),
          waitInOpenMs: Ms(10000),
          halfOpenCalls: Type.Integer({ minimum: 1, default: 3 }),
          eventBufferSize: Type.Integer({ minimum: 1, default: 10 }),
        },
        { default: {} },
      ),
    },
    { default: {} },
  ),
  security: securityConfigSchema,
  faults: Type.Object({ enabled: Type.Boolean({ default: false }) }, { default: {} }),
});
export type CompositeConfig = Static<typeof compositeConfigSchema>;
