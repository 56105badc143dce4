import { createHttpApp, type Built, type ServiceDeps, type WithDatabase } from '@landscape/platform';
import { resolveAuthSettings, type AuthServerConfig } from './config.ts';
import { loadCookieKeys } from './keys/cookie-keys.ts';
import { loadSigningKeys } from './keys/signing-keys.ts';
import { createSignInThrottle } from './domain/sign-in-throttle.ts';
import { createUserDirectory } from './domain/users.ts';
import type { AuthDatabase } from './oauth/database-adapter.ts';
import { createProvider } from './oauth/provider.ts';
import { openStore, type PayloadStore } from './oauth/store.ts';
import { interactionRoutes } from './routes/interactions.ts';
import { oauthRoutes } from './routes/oauth.ts';

export interface AuthServerOptions {
  /** The clock of the stores and the sign-in throttle (tests move it). */
  now?: () => number;
  /** Sees the store the provider keeps its state in (tests read its size). */
  observeStore?: (store: PayloadStore) => void;
}

export async function buildApp(
  config: AuthServerConfig,
  deps: ServiceDeps & Partial<WithDatabase<AuthDatabase>>,
  options: AuthServerOptions = {},
): Promise<Built> {
  const settings = resolveAuthSettings(config.auth);
  const keys = await loadSigningKeys(config.auth.keys, deps.logger);
  const cookieKeys = loadCookieKeys(config.auth.cookies, deps.logger);
  const users = createUserDirectory(settings.userPasswords);
  const store = await openStore(config.auth.store, {
    database: deps.database,
    health: deps.health,
    logger: deps.logger,
    ...(options.now ? { now: options.now } : {}),
  });
  options.observeStore?.(store);
  const throttle = createSignInThrottle(settings.signInThrottle, options.now);
  const provider = createProvider(settings, { keys, cookieKeys, users, store, throttle, logger: deps.logger });

  const app = createHttpApp({ ...deps, info: { app: { name: 'auth-server' } } });
  // Each registers in its own scope: the OAuth endpoints must leave request bodies unread, the pages parse forms.
  await app.register(oauthRoutes, { provider });
  await app.register(interactionRoutes, { provider, users, throttle, scopes: settings.scopes });
  return { app, close: () => store.close() };
}
