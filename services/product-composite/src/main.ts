import { createLogger, processOptions, runUntilSignal } from '@landscape/platform';
import { productCompositeService } from './service.ts';

await runUntilSignal(createLogger(productCompositeService.name), async () => {
  const config = productCompositeService.loadConfig();
  const service = await productCompositeService.start(config, processOptions());
  return { services: [service], shutdownTimeoutMs: config.server.shutdownTimeoutMs };
});
