import { Type, type Static } from '@landscape/vendor/typebox';
import { databaseConfigSchema, messagingConfigSchema, serviceConfigProperties } from '@landscape/platform';

export const reviewConfigSchema = Type.Object({
  ...serviceConfigProperties,
  database: databaseConfigSchema,
  messaging: messagingConfigSchema,
});
export type ReviewConfig = Static<typeof reviewConfigSchema>;
