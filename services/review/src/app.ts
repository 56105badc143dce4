import { destinations } from '@landscape/api';
import { createHttpApp, eventHandler, type ServiceDeps, type WithBus, type WithDatabase } from '@landscape/platform';
import type { ReviewConfig } from './config.ts';
import { createReviewRepository, type ReviewTable } from './data/reviews.ts';
import { applyReviewEvent } from './domain/reviews.ts';
import { reviewRoutes } from './routes/reviews.ts';

export type ReviewDb = { reviews: ReviewTable };

export function buildApp(_config: ReviewConfig, deps: ServiceDeps & WithDatabase<ReviewDb> & WithBus) {
  const reviews = createReviewRepository(deps.database.db);
  const app = createHttpApp({ ...deps, info: { app: { name: 'review' } } });
  reviewRoutes(app, { reviews, serviceAddress: deps.serviceAddress });
  const { destination, group, schema } = destinations.reviews;
  return {
    app,
    subscriptions: [{ destination, group, handler: eventHandler(schema, (event) => applyReviewEvent(reviews, event)) }],
  };
}
