import { defineService } from '@landscape/platform';
import { buildApp } from './app.ts';
import { productConfigSchema } from './config.ts';

export const productService = defineService({
  name: 'product',
  schema: productConfigSchema,
  database: { migrationsDir: new URL('../migrations', import.meta.url).pathname },
  build: buildApp,
});
