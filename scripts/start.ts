// All-in-one: every service in this one process on its own port, SQLite files under data/, the
// in-process bus, and the edge in front. Ctrl-C stops everything cleanly; the data stays.
import { createLogger, runUntilSignal, type EventBus } from '@landscape/platform';
import { authServerService } from '@landscape/auth-server/service';
import { productCompositeService } from '@landscape/product-composite/service';
import { webService } from '@landscape/web/service';
import { startCoreServices, type CoreServices } from './core-services.ts';
import { banner, startLocalEdge, startSecondThread } from './landscape.ts';

const logger = createLogger('landscape');
const env: NodeJS.ProcessEnv = {
  ...process.env,
  CONFIG_PROFILES: ['embedded', process.env['CONFIG_PROFILES']].filter(Boolean).join(','),
};

await runUntilSignal(logger, async () => {
  // The edge and the core services start on the second thread while the rest start here;
  // SECOND_THREAD=false keeps everything on this one.
  const second = env['SECOND_THREAD'] === 'false' ? undefined : startSecondThread(env, logger);
  // Marked handled so a failure while the services start is no unhandled rejection; it is awaited below.
  second?.started.catch(() => {});
  let cores: CoreServices | undefined;
  let bus: EventBus;
  if (second) bus = second.bus;
  else {
    cores = await startCoreServices(env, logger);
    bus = cores.bus;
  }
  const composite = productCompositeService.loadConfig(env);
  const services = [
    await authServerService.start(authServerService.loadConfig(env)),
    await productCompositeService.start(composite, { bus }),
    await webService.start(webService.loadConfig(env)),
  ];
  const edge = second ? await second.started : await startLocalEdge(env);
  process.stdout.write(banner('all-in-one, data in data/', edge));
  // The edge stops taking requests first, then the core services (the bus before their databases).
  return {
    services: [edge, ...(cores ? [cores] : []), ...services],
    shutdownTimeoutMs: composite.server.shutdownTimeoutMs,
  };
});
