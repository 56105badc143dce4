import { reviewService } from './service.ts';

await reviewService.main();
