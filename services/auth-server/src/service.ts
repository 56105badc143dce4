import { defineService } from '@landscape/platform';
import { buildApp } from './app.ts';
import { authServerConfigSchema } from './config.ts';

export const authServerService = defineService({
  name: 'auth-server',
  schema: authServerConfigSchema,
  build: (config, deps) => buildApp(config, deps),
});
