import { defineService } from '@landscape/platform';
import { buildApp, type AuthServerOptions } from './app.ts';
import { authServerConfigSchema } from './config.ts';

/** The auth server as a service; options only change what tests need to see or control. */
export function createAuthServerService(options: AuthServerOptions = {}) {
  return defineService({
    name: 'auth-server',
    schema: authServerConfigSchema,
    build: (config, deps) => buildApp(config, deps, options),
  });
}

export const authServerService = createAuthServerService();
