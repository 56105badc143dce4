import { Type, type Static } from '@landscape/vendor/typebox';
import { databaseConfigSchema, messagingConfigSchema, serviceConfigProperties } from '@landscape/platform';

export const recommendationConfigSchema = Type.Object({
  ...serviceConfigProperties,
  database: databaseConfigSchema,
  messaging: messagingConfigSchema,
});
export type RecommendationConfig = Static<typeof recommendationConfigSchema>;
