import type { Adapter } from '@landscape/vendor/oidc-provider';
import { ConfigError, type Database, type Health } from '@landscape/platform';
import type { Logger } from 'pino';
import type { StoreConfig } from '../config.ts';
import { createDatabaseStore, type AuthDatabase } from './database-adapter.ts';
import { createMemoryAdapter } from './memory-adapter.ts';

/** Where oidc-provider keeps interactions, sessions, grants and codes: one adapter per kind. */
export interface PayloadStore {
  adapter(kind: string): Adapter;
  /** Entries of one kind held now, expired ones not yet deleted included. */
  size(kind: string): Promise<number>;
  close(): Promise<void>;
}

/** The store auth.store.kind names; a shared one (database, redis) lets any replica continue a sign-in. */
export async function openStore(
  config: StoreConfig,
  deps: { database: Database<AuthDatabase> | undefined; health: Health; logger: Logger; now?: () => number },
): Promise<PayloadStore> {
  const clock = deps.now ? { now: deps.now } : {};
  switch (config.kind) {
    case 'memory': {
      const store = createMemoryAdapter({ maxEntriesPerKind: config.maxEntriesPerKind, ...clock });
      return { adapter: store.adapter, size: async (kind) => store.size(kind), close: async () => {} };
    }
    case 'database':
      if (!deps.database)
        throw new ConfigError(
          'Missing configuration key: database (auth.store.kind is database; set database.kind and its settings, or choose another auth.store.kind)',
        );
      return createDatabaseStore(deps.database, { maxEntriesPerKind: config.maxEntriesPerKind, ...clock });
    case 'redis': {
      // The Redis client is hundreds of modules (about 7 MiB resident): loaded only by a service that uses it.
      const { createRedisStore } = await import('./redis-adapter.ts');
      const store = await createRedisStore(config, { logger: deps.logger, ...clock });
      deps.health.add({
        name: 'redis',
        readiness: true,
        check: async () => {
          await store.ping();
          return { status: 'UP' };
        },
      });
      return store;
    }
  }
}
