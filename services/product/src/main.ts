import { createLogger, processOptions, runUntilSignal } from '@landscape/platform';
import { productService } from './service.ts';

await runUntilSignal(createLogger(productService.name), async () => {
  const config = productService.loadConfig();
  const service = await productService.start(config, processOptions());
  return { services: [service], shutdownTimeoutMs: config.server.shutdownTimeoutMs };
});
