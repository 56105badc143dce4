import { productCompositeService } from './service.ts';

await productCompositeService.main();
