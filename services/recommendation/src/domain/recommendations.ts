import type { RecommendationEvent } from '@landscape/api';
import { insertOnce } from '@landscape/platform';
import type { RecommendationRepository } from '../data/recommendations.ts';

export async function applyRecommendationEvent(
  recommendations: RecommendationRepository,
  event: RecommendationEvent,
): Promise<void> {
  if (event.eventType === 'DELETE') return recommendations.removeAll(event.key);
  const r = event.data;
  await insertOnce(r, {
    find: () => recommendations.find(r.productId, r.recommendationId),
    insert: () => recommendations.insert(r),
    duplicateMessage: `Duplicate key, Product Id: ${r.productId}, Recommendation Id:${r.recommendationId}`,
  });
}
