// All-in-one: every service in this one process on its own port, SQLite files under data/, the
// in-process bus, and the edge in front. Ctrl-C stops everything cleanly; the data stays.
import { createInProcessBus, createLogger, runUntilSignal } from '@landscape/platform';
import { authServerService } from '@landscape/auth-server/service';
import { productCompositeService } from '@landscape/product-composite/service';
import { productService } from '@landscape/product/service';
import { recommendationService } from '@landscape/recommendation/service';
import { reviewService } from '@landscape/review/service';
import { webService } from '@landscape/web/service';
import { banner, startEdgeThread, startLocalEdge } from './landscape.ts';

const logger = createLogger('landscape');
const env: NodeJS.ProcessEnv = {
  ...process.env,
  CONFIG_PROFILES: ['embedded', process.env['CONFIG_PROFILES']].filter(Boolean).join(','),
};

await runUntilSignal(logger, async () => {
  // The edge's thread starts while the services do; EDGE_THREAD=false keeps it on the main thread.
  const edgeStarting = env['EDGE_THREAD'] === 'false' ? undefined : startEdgeThread(env, logger);
  // Marked handled so a failure while the services start is no unhandled rejection; it is awaited below.
  edgeStarting?.catch(() => {});
  const product = productService.loadConfig(env);
  const bus = createInProcessBus(product.messaging, logger);
  const services = [
    await productService.start(product, { bus }),
    await recommendationService.start(recommendationService.loadConfig(env), { bus }),
    await reviewService.start(reviewService.loadConfig(env), { bus }),
    await authServerService.start(authServerService.loadConfig(env)),
    await productCompositeService.start(productCompositeService.loadConfig(env), { bus }),
    await webService.start(webService.loadConfig(env)),
  ];
  const edge = (await edgeStarting) ?? (await startLocalEdge(env));
  process.stdout.write(banner('all-in-one, data in data/', edge));
  // The edge stops taking requests first, then the shared bus so no event meets a closed database.
  return {
    services: [edge, { close: () => bus.close() }, ...services],
    shutdownTimeoutMs: product.server.shutdownTimeoutMs,
  };
});
