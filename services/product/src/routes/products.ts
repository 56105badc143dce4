import type { FastifyInstance } from 'fastify';
import { ErrorResponse, ProductResponse } from '@landscape/api';
import { parseIntParam, parseProductId, rejectUnknownQuery, unprocessable } from '@landscape/platform';
import type { ProductRepository } from '../data/products.ts';
import { getProduct, injectFaults } from '../domain/products.ts';

export interface ProductRouteDeps {
  products: ProductRepository;
  faults: { enabled: boolean; maxDelaySeconds: number };
  serviceAddress: () => string;
}

export function productRoutes(app: FastifyInstance, deps: ProductRouteDeps): void {
  app.get('/product/:productId', {
    schema: { response: { 200: ProductResponse, '4xx': ErrorResponse, '5xx': ErrorResponse } },
  }, async (request) => {
    const productId = parseProductId((request.params as { productId: string }).productId);
    const query = rejectUnknownQuery(request.query, ['delay', 'faultPercent']);
    if (deps.faults.enabled) {
      const delay = query['delay'] === undefined ? 0 : parseIntParam(query['delay']);
      const faultPercent = query['faultPercent'] === undefined ? 0 : parseIntParam(query['faultPercent']);
      if (delay < 0 || delay > deps.faults.maxDelaySeconds) throw unprocessable(`Invalid delay: ${delay}`);
      if (faultPercent < 0 || faultPercent > 100) throw unprocessable(`Invalid faultPercent: ${faultPercent}`);
      await injectFaults(delay, faultPercent);
    }
    const product = await getProduct(deps.products, productId);
    return { ...product, serviceAddress: deps.serviceAddress() };
  });
}
