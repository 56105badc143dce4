import type { FastifyInstance } from 'fastify';
import { ErrorResponse, FaultQuery, ProductIdParams, ProductResponse } from '@landscape/api';
import { parseProductId, rejectUnknownQuery, typedRoutes } from '@landscape/platform';
import type { ProductRepository } from '../data/products.ts';
import { faultsFrom, getProduct, injectFaults, type FaultSettings } from '../domain/products.ts';

export interface ProductRouteDeps {
  products: ProductRepository;
  faults: FaultSettings;
  serviceAddress: () => string;
}

export function productRoutes(app: FastifyInstance, deps: ProductRouteDeps): void {
  typedRoutes(app).get(
    '/product/:productId',
    {
      schema: {
        params: ProductIdParams,
        querystring: FaultQuery,
        response: { 200: ProductResponse, '4xx': ErrorResponse, '5xx': ErrorResponse },
      },
    },
    async (request) => {
      const productId = parseProductId(request.params.productId);
      const { delaySeconds, faultPercent } = faultsFrom(
        rejectUnknownQuery(request.query, ['delay', 'faultPercent']),
        deps.faults,
      );
      await injectFaults(delaySeconds, faultPercent);
      const product = await getProduct(deps.products, productId);
      return { ...product, serviceAddress: deps.serviceAddress() };
    },
  );
}
