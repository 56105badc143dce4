import { createLogger, processOptions, runUntilSignal } from '@landscape/platform';
import { webService } from './service.ts';

await runUntilSignal(createLogger(webService.name), async () => {
  const config = webService.loadConfig();
  const service = await webService.start(config, processOptions());
  return { services: [service], shutdownTimeoutMs: config.server.shutdownTimeoutMs };
});
