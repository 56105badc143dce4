import { createLogger, processOptions, runUntilSignal } from '@landscape/platform';
import { authServerService } from './service.ts';

await runUntilSignal(createLogger(authServerService.name), async () => {
  const config = authServerService.loadConfig();
  const service = await authServerService.start(config, processOptions());
  return { services: [service], shutdownTimeoutMs: config.server.shutdownTimeoutMs };
});
