import { productService } from './service.ts';

await productService.main();
