import { resolve } from 'node:path';
import { defineService } from '@landscape/platform';
import { buildApp, type AuthServerOptions } from './app.ts';
import { authServerConfigSchema } from './config.ts';

/** The auth server as a service; options only change what tests need to see or control. */
export function createAuthServerService(options: AuthServerOptions = {}) {
  return defineService({
    name: 'auth-server',
    schema: authServerConfigSchema,
    database: {
      migrationsDir: resolve(import.meta.dirname, '../migrations'),
      // Only the database store uses the database; with another the service neither opens nor waits for one.
      usedBy: (config) => config.auth.store.kind === 'database',
    },
    build: (config, deps) => buildApp(config, deps, options),
  });
}

export const authServerService = createAuthServerService();
