import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Product, ProductEvent } from '@landscape/api';
import { HttpError, insertOnce, notFound, parseIntParam, unprocessable } from '@landscape/platform';
import type { ProductRepository } from '../data/products.ts';

export async function getProduct(products: ProductRepository, productId: number): Promise<Product> {
  const product = await products.find(productId);
  if (!product) throw notFound(`No product found for productId: ${productId}`);
  return product;
}

export interface FaultSettings {
  enabled: boolean;
  maxDelaySeconds: number;
}

/** The fault parameters of a request, none where fault injection is off; out of range → 422. */
export function faultsFrom(
  query: Record<string, unknown>,
  settings: FaultSettings,
): { delaySeconds: number; faultPercent: number } {
  if (!settings.enabled) return { delaySeconds: 0, faultPercent: 0 };
  const delaySeconds = query['delay'] === undefined ? 0 : parseIntParam(query['delay']);
  const faultPercent = query['faultPercent'] === undefined ? 0 : parseIntParam(query['faultPercent']);
  if (delaySeconds < 0 || delaySeconds > settings.maxDelaySeconds)
    throw unprocessable(`Invalid delay: ${delaySeconds}`);
  if (faultPercent < 0 || faultPercent > 100) throw unprocessable(`Invalid faultPercent: ${faultPercent}`);
  return { delaySeconds, faultPercent };
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
