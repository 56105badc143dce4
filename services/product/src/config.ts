import { Type, type Static } from '@landscape/vendor/typebox';
import { databaseConfigSchema, messagingConfigSchema, serviceConfigProperties } from '@landscape/platform';

export const productConfigSchema = Type.Object({
  ...serviceConfigProperties,
  database: databaseConfigSchema,
  messaging: messagingConfigSchema,
  faults: Type.Object(
    {
      /** `delay` and `faultPercent` are honoured only when this is on (never in the prod profile). */
      enabled: Type.Boolean({ default: false }),
      maxDelaySeconds: Type.Integer({ minimum: 0, default: 60 }),
    },
    { default: {} },
  ),
});
export type ProductConfig = Static<typeof productConfigSchema>;
