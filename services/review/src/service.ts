import { defineService } from '@landscape/platform';
import { buildApp } from './app.ts';
import { reviewConfigSchema } from './config.ts';

export const reviewService = defineService({
  name: 'review',
  schema: reviewConfigSchema,
  database: { migrationsDir: new URL('../migrations', import.meta.url).pathname },
  build: buildApp,
});
