import { Type, type Static } from 'typebox';
import { databaseConfigSchema, serviceConfigProperties } from '@landscape/platform';

export const reviewConfigSchema = Type.Object({
  ...serviceConfigProperties,
  database: databaseConfigSchema,
});
export type ReviewConfig = Static<typeof reviewConfigSchema>;
