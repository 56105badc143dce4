import { createLogger, processOptions, runUntilSignal } from '@landscape/platform';
import { recommendationService } from './service.ts';

await runUntilSignal(createLogger(recommendationService.name), async () => {
  const config = recommendationService.loadConfig();
  const service = await recommendationService.start(config, processOptions());
  return { services: [service], shutdownTimeoutMs: config.server.shutdownTimeoutMs };
});
