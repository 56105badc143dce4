import { defineService } from '@landscape/platform';
import { buildApp } from './app.ts';
import { webConfigSchema } from './config.ts';

export const webService = defineService({
  name: 'web',
  schema: webConfigSchema,
  build: buildApp,
});
