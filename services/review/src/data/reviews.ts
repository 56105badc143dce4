import type { Kysely } from 'kysely';
import type { Review } from '@landscape/api';
import { compiledOnce } from '@landscape/platform';

export interface ReviewTable {
  product_id: number;
  review_id: number;
  author: string;
  subject: string;
  content: string;
}

export type ReviewRepository = ReturnType<typeof createReviewRepository>;

export function createReviewRepository(db: Kysely<{ reviews: ReviewTable }>) {
  const select = () => db.selectFrom('reviews').select(['product_id', 'review_id', 'author', 'subject', 'content']);
  const toEntity = (row: ReviewTable): Review => ({
    productId: row.product_id, reviewId: row.review_id, author: row.author, subject: row.subject, content: row.content,
  });
  // The composite lists them on every request: built and compiled once.
  const ofProduct = compiledOnce(db, select().where('product_id', '=', 0).orderBy('review_id'));
  return {
    async list(productId: number): Promise<Review[]> {
      return (await ofProduct(productId)).map(toEntity);
    },
    async find(productId: number, reviewId: number): Promise<Review | undefined> {
      const row = await select().where('product_id', '=', productId).where('review_id', '=', reviewId).executeTakeFirst();
      return row && toEntity(row);
    },
    async insert(r: Review): Promise<void> {
      await db.insertInto('reviews').values({
        product_id: r.productId, review_id: r.reviewId, author: r.author, subject: r.subject, content: r.content,
      }).execute();
    },
    async removeAll(productId: number): Promise<void> {
      await db.deleteFrom('reviews').where('product_id', '=', productId).execute();
    },
  };
}
