import type { Kysely } from 'kysely';
import type { Product } from '@landscape/api';
import { compiledOnce } from '@landscape/platform';

export interface ProductTable {
  product_id: number;
  name: string;
  weight: number;
}

export type ProductRepository = ReturnType<typeof createProductRepository>;

export function createProductRepository(db: Kysely<{ products: ProductTable }>) {
  // The composite reads a product on every request: built and compiled once.
  const byId = compiledOnce(db, db.selectFrom('products').select(['product_id', 'name', 'weight']).where('product_id', '=', 0));
  return {
    async find(productId: number): Promise<Product | undefined> {
      const [row] = await byId(productId);
      return row && { productId: row.product_id, name: row.name, weight: row.weight };
    },
    async insert(product: Product): Promise<void> {
      await db.insertInto('products')
        .values({ product_id: product.productId, name: product.name, weight: product.weight })
        .execute();
    },
    async remove(productId: number): Promise<void> {
      await db.deleteFrom('products').where('product_id', '=', productId).execute();
    },
  };
}
