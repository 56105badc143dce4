import { defineService } from '@landscape/platform';
import { buildApp } from './app.ts';
import { recommendationConfigSchema } from './config.ts';

export const recommendationService = defineService({
  name: 'recommendation',
  schema: recommendationConfigSchema,
  database: { migrationsDir: new URL('../migrations', import.meta.url).pathname },
  build: buildApp,
});
