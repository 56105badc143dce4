import type { FastifyInstance } from 'fastify';
import { Type } from '@landscape/vendor/typebox';
import { ErrorResponse, ReviewResponse } from '@landscape/api';
import { requireProductIdQuery } from '@landscape/platform';
import type { ReviewRepository } from '../data/reviews.ts';

export function reviewRoutes(
  app: FastifyInstance,
  deps: { reviews: ReviewRepository; serviceAddress: () => string },
): void {
  app.get(
    '/review',
    {
      schema: { response: { 200: Type.Array(ReviewResponse), '4xx': ErrorResponse, '5xx': ErrorResponse } },
    },
    async (request) => {
      const productId = requireProductIdQuery(request.query);
      const serviceAddress = deps.serviceAddress();
      return (await deps.reviews.list(productId)).map((r) => ({ ...r, serviceAddress }));
    },
  );
}
