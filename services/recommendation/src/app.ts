import { destinations } from '@landscape/api';
import { createHttpApp, eventHandler, type ServiceDeps, type WithBus, type WithDatabase } from '@landscape/platform';
import type { RecommendationConfig } from './config.ts';
import { createRecommendationRepository, type RecommendationTable } from './data/recommendations.ts';
import { applyRecommendationEvent } from './domain/recommendations.ts';
import { recommendationRoutes } from './routes/recommendations.ts';

export type RecommendationDb = { recommendations: RecommendationTable };

export function buildApp(_config: RecommendationConfig, deps: ServiceDeps & WithDatabase<RecommendationDb> & WithBus) {
  const recommendations = createRecommendationRepository(deps.database.db);
  const app = createHttpApp({ ...deps, info: { app: { name: 'recommendation' } } });
  recommendationRoutes(app, { recommendations, serviceAddress: deps.serviceAddress });
  const { destination, group, schema } = destinations.recommendations;
  return {
    app,
    subscriptions: [
      {
        destination,
        group,
        handler: eventHandler(schema, (event) => applyRecommendationEvent(recommendations, event)),
      },
    ],
  };
}
