import type { FastifyInstance } from 'fastify';
import { Type } from '@landscape/vendor/typebox';
import { ErrorResponse, RecommendationResponse } from '@landscape/api';
import { requireProductIdQuery } from '@landscape/platform';
import type { RecommendationRepository } from '../data/recommendations.ts';

export function recommendationRoutes(
  app: FastifyInstance,
  deps: { recommendations: RecommendationRepository; serviceAddress: () => string },
): void {
  app.get(
    '/recommendation',
    {
      schema: { response: { 200: Type.Array(RecommendationResponse), '4xx': ErrorResponse, '5xx': ErrorResponse } },
    },
    async (request) => {
      const productId = requireProductIdQuery(request.query);
      const serviceAddress = deps.serviceAddress();
      return (await deps.recommendations.list(productId)).map((r) => ({ ...r, serviceAddress }));
    },
  );
}
