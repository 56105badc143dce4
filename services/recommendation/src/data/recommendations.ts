import type { Kysely } from 'kysely';
import type { Recommendation } from '@landscape/api';
import { compiledOnce } from '@landscape/platform';

export interface RecommendationTable {
  product_id: number;
  recommendation_id: number;
  author: string;
  rate: number;
  content: string;
}

export type RecommendationRepository = ReturnType<typeof createRecommendationRepository>;

export function createRecommendationRepository(db: Kysely<{ recommendations: RecommendationTable }>) {
  const select = () => db.selectFrom('recommendations').select(['product_id', 'recommendation_id', 'author', 'rate', 'content']);
  const toEntity = (row: RecommendationTable): Recommendation => ({
    productId: row.product_id, recommendationId: row.recommendation_id, author: row.author, rate: row.rate, content: row.content,
  });
  // The composite lists them on every request: built and compiled once.
  const ofProduct = compiledOnce(db, select().where('product_id', '=', 0).orderBy('recommendation_id'));
  return {
    async list(productId: number): Promise<Recommendation[]> {
      return (await ofProduct(productId)).map(toEntity);
    },
    async find(productId: number, recommendationId: number): Promise<Recommendation | undefined> {
      const row = await select().where('product_id', '=', productId).where('recommendation_id', '=', recommendationId).executeTakeFirst();
      return row && toEntity(row);
    },
    async insert(r: Recommendation): Promise<void> {
      await db.insertInto('recommendations').values({
        product_id: r.productId, recommendation_id: r.recommendationId, author: r.author, rate: r.rate, content: r.content,
      }).execute();
    },
    async removeAll(productId: number): Promise<void> {
      await db.deleteFrom('recommendations').where('product_id', '=', productId).execute();
    },
  };
}
