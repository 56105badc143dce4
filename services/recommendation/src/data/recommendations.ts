import type { Kysely } from 'kysely';
import type { Recommendation } from '@landscape/api';

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
  return {
    async list(productId: number): Promise<Recommendation[]> {
      const rows = await select().where('product_id', '=', productId).orderBy('recommendation_id').execute();
      return rows.map(toEntity);
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
