import { Type, type Static } from 'typebox';
import { databaseConfigSchema, loggingConfigSchema, messagingConfigSchema, serverConfigSchema } from '@landscape/platform';

export const recommendationConfigSchema = Type.Object({
  server: serverConfigSchema,
  logging: loggingConfigSchema,
  database: databaseConfigSchema,
  messaging: messagingConfigSchema,
});
export type RecommendationConfig = Static<typeof recommendationConfigSchema>;
