// All-in-one: every service in this one process on its own port, SQLite files under data/ and the
// in-process bus. Ctrl-C stops everything cleanly; the data stays for the next start.
import { createInProcessBus, createLogger, runUntilSignal } from '@landscape/platform';
import { productCompositeService } from '@landscape/product-composite/service';
import { productService } from '@landscape/product/service';
import { recommendationService } from '@landscape/recommendation/service';
import { reviewService } from '@landscape/review/service';

const startedAt = performance.now();
const logger = createLogger('landscape');
const env = { ...process.env, CONFIG_PROFILES: ['embedded', process.env['CONFIG_PROFILES']].filter(Boolean).join(',') };

await runUntilSignal(logger, async () => {
  const product = productService.loadConfig(env);
  const recommendation = recommendationService.loadConfig(env);
  const review = reviewService.loadConfig(env);
  const composite = productCompositeService.loadConfig(env);
  const bus = createInProcessBus(product.messaging, logger);
  const services = [
    await productService.start(product, { bus }),
    await recommendationService.start(recommendation, { bus }),
    await reviewService.start(review, { bus }),
    await productCompositeService.start(composite, { bus }),
  ];
  const lines = services.map((s) => `  ${s.name.padEnd(16)} ${s.url}`);
  process.stdout.write(`\nThe landscape is up:\n${lines.join('\n')}\n\n` +
    `Try: curl -s ${services[0]?.url}/actuator/health\n` +
    `Ready in ${Math.round(performance.now() - startedAt)} ms. Press Ctrl-C to stop.\n\n`);
  // The shared bus stops first so no event is handled against a closed database.
  return { services: [{ close: () => bus.close() }, ...services], shutdownTimeoutMs: product.server.shutdownTimeoutMs };
});
