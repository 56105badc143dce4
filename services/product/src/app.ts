import { destinations } from '@landscape/api';
import { createHttpApp, eventHandler, type ServiceDeps, type WithBus, type WithDatabase } from '@landscape/platform';
import type { ProductConfig } from './config.ts';
import { createProductRepository, type ProductTable } from './data/products.ts';
import { applyProductEvent } from './domain/products.ts';
import { productRoutes } from './routes/products.ts';

export type ProductDb = { products: ProductTable };

export function buildApp(config: ProductConfig, deps: ServiceDeps & WithDatabase<ProductDb> & WithBus) {
  const products = createProductRepository(deps.database.db);
  const app = createHttpApp({ ...deps, info: { app: { name: 'product' } } });
  productRoutes(app, { products, faults: config.faults, serviceAddress: deps.serviceAddress });
  const { destination, group, schema } = destinations.products;
  return {
    app,
    subscriptions: [
      { destination, group, handler: eventHandler(schema, (event) => applyProductEvent(products, event)) },
    ],
  };
}
