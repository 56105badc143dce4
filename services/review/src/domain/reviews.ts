import type { ReviewEvent } from '@landscape/api';
import { insertOnce } from '@landscape/platform';
import type { ReviewRepository } from '../data/reviews.ts';

export async function applyReviewEvent(reviews: ReviewRepository, event: ReviewEvent): Promise<void> {
  if (event.eventType === 'DELETE') return reviews.removeAll(event.key);
  const r = event.data;
  await insertOnce(r, {
    find: () => reviews.find(r.productId, r.reviewId),
    insert: () => reviews.insert(r),
    duplicateMessage: `Duplicate key, Product Id: ${r.productId}, Review Id:${r.reviewId}`,
  });
}
