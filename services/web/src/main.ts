import { webService } from './service.ts';

await webService.main();
