import { authServerService } from './service.ts';

await authServerService.main();
