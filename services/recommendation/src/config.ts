import { Type, type Static } from 'typebox';
import { databaseConfigSchema, serviceConfigProperties } from '@landscape/platform';

export const recommendationConfigSchema = Type.Object({
  ...serviceConfigProperties,
  database: databaseConfigSchema,
});
export type RecommendationConfig = Static<typeof recommendationConfigSchema>;
