import { createHttpApp, type Built, type ServiceDeps } from '@landscape/platform';
import { resolveAuthSettings, type AuthServerConfig } from './config.ts';
import { loadSigningKeys } from './keys/signing-keys.ts';
import { createUserDirectory } from './domain/users.ts';
import { createProvider } from './oauth/provider.ts';
import { interactionRoutes } from './routes/interactions.ts';
import { oauthRoutes } from './routes/oauth.ts';

export async function buildApp(config: AuthServerConfig, deps: ServiceDeps<unknown>): Promise<Built> {
  const settings = resolveAuthSettings(config.auth);
  const keys = await loadSigningKeys(config.auth.keys, deps.logger);
  const users = createUserDirectory(settings.userPasswords);
  const provider = createProvider(settings, { keys, users, logger: deps.logger });

  const app = createHttpApp({ logger: deps.logger, health: deps.health, info: { app: { name: 'auth-server' } } });
  // Each registers in its own scope: the OAuth endpoints must leave request bodies unread, the pages parse forms.
  await app.register(oauthRoutes, { provider });
  await app.register(interactionRoutes, { provider, users, scopes: settings.scopes });
  return { app };
}
