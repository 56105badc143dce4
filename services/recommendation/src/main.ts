import { recommendationService } from './service.ts';

await recommendationService.main();
