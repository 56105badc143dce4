import { defineService } from '@landscape/platform';
import { buildApp } from './app.ts';
import { compositeConfigSchema } from './config.ts';

export const productCompositeService = defineService({
  name: 'product-composite',
  schema: compositeConfigSchema,
  build: buildApp,
});
