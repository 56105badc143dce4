import { Type, type Static } from 'typebox';
import { databaseConfigSchema, loggingConfigSchema, messagingConfigSchema, serverConfigSchema } from '@landscape/platform';

export const reviewConfigSchema = Type.Object({
  server: serverConfigSchema,
  logging: loggingConfigSchema,
  database: databaseConfigSchema,
  messaging: messagingConfigSchema,
});
export type ReviewConfig = Static<typeof reviewConfigSchema>;
