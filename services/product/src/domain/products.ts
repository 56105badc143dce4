import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Product, ProductEvent } from '@landscape/api';
import { HttpError, insertOnce, notFound } from '@landscape/platform';
import type { ProductRepository } from '../data/products.ts';

export async function getProduct(products: ProductRepository, productId: number): Promise<Product> {
  const product = await products.find(productId);
  if (!product) throw notFound(`No product found for productId: ${productId}`);
  return product;
}

/** Fault injection for resilience tests: wait, then fail with the given probability. */
export async function injectFaults(delaySeconds: number, faultPercent: number): Promise<void> {
  if (delaySeconds > 0) await sleep(delaySeconds * 1000);
  if (faultPercent > 0 && randomInt(100) < faultPercent) throw new HttpError(500, 'Something went wrong...');
}

export async function applyProductEvent(products: ProductRepository, event: ProductEvent): Promise<void> {
  if (event.eventType === 'DELETE') return products.remove(event.key);
  const product = event.data;
  await insertOnce(product, {
    find: () => products.find(product.productId),
    insert: () => products.insert(product),
    duplicateMessage: `Duplicate key, Product Id: ${product.productId}`,
  });
}
