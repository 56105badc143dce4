import { createLogger, processOptions, runUntilSignal } from '@landscape/platform';
import { reviewService } from './service.ts';

await runUntilSignal(createLogger(reviewService.name), async () => {
  const config = reviewService.loadConfig();
  const service = await reviewService.start(config, processOptions());
  return { services: [service], shutdownTimeoutMs: config.server.shutdownTimeoutMs };
});
