import { setTimeout as sleep } from 'node:timers/promises';
import type { ProductResponse } from '@landscape/api';
import { HttpError, notFound } from '@landscape/platform';
import { CallNotPermittedError, type CircuitBreaker, type Outcome } from './circuit-breaker.ts';
import type { CoreClient } from '../integration/core-client.ts';

export interface RetrySettings {
  maxAttempts: number;
  waitMs: number;
}

/** 404 and 422 say the request was wrong, not that product is unhealthy. */
const classify = (error: unknown): Outcome =>
  error instanceof HttpError && (error.status === 404 || error.status === 422) ? 'ignored' : 'failure';

const isServerError = (error: unknown) => error instanceof HttpError && error.status === 500;

/**
 * product behind retry (on 500 only), the circuit breaker and the client's timeout, in that order of
 * wrapping; while the breaker is open the fallback answers instead.
 */
export type ProductCaller = ReturnType<typeof createProductCaller>;

export function createProductCaller(
  client: CoreClient,
  breaker: CircuitBreaker,
  retry: RetrySettings,
  sleepFor: (ms: number) => Promise<unknown> = sleep,
) {
  return async function getProduct(
    productId: number,
    faults: { delay?: number; faultPercent?: number },
  ): Promise<ProductResponse> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await breaker.run(() => client.getProduct(productId, faults), classify);
      } catch (error) {
        if (error instanceof CallNotPermittedError) return fallback(productId);
        if (!isServerError(error) || attempt >= retry.maxAttempts) throw error;
        await sleepFor(retry.waitMs);
      }
    }
  };
}

function fallback(productId: number): ProductResponse {
  if (productId === 13) throw notFound(`Product Id: ${productId} not found in fallback cache!`);
  return { productId, name: `Fallback product${productId}`, weight: productId, serviceAddress: '' };
}
