import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpError } from '@landscape/platform';
import { CallTimeoutError, type CoreClient } from '../integration/core-client.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import { createProductCaller } from './product-caller.ts';

const settings = {
  windowSize: 5,
  failureRateThreshold: 50,
  waitInOpenMs: 10000,
  halfOpenCalls: 3,
  eventBufferSize: 10,
};
const product = { productId: 1, name: 'p', weight: 1, serviceAddress: 'x' };

/** A product client that answers with the given outcomes in turn, counting calls and waits. */
function fixture(outcomes: Array<'ok' | 500 | 404 | 422 | 'timeout'>) {
  let calls = 0;
  const waits: number[] = [];
  const client = {
    async getProduct() {
      const outcome = outcomes[Math.min(calls, outcomes.length - 1)];
      calls += 1;
      if (outcome === 'ok') return product;
      if (outcome === 'timeout') throw new CallTimeoutError(2000);
      throw new HttpError(outcome ?? 500, `status ${outcome}`);
    },
  } as unknown as CoreClient;
  const breaker = new CircuitBreaker('product', settings, () => 0);
  const getProduct = createProductCaller(client, breaker, { maxAttempts: 3, waitMs: 1000 }, async (ms: number) => {
    waits.push(ms);
  });
  return { getProduct: (id = 1) => getProduct(id, {}), calls: () => calls, waits, breaker };
}

describe('calls to product', () => {
  it('when product answers 500 twice and then succeeds, then the third attempt answers, 1 s after each failure', async () => {
    const f = fixture([500, 500, 'ok']);
    assert.deepEqual(await f.getProduct(), product);
    assert.equal(f.calls(), 3);
    assert.deepEqual(f.waits, [1000, 1000]);
  });

  it('when product answers 500 three times, then the 500 is passed on after 3 attempts', async () => {
    const f = fixture([500]);
    await assert.rejects(f.getProduct(), (e: HttpError) => e.status === 500);
    assert.equal(f.calls(), 3);
  });

  it('when product answers 404 or 422 or times out, then nothing is retried', async () => {
    for (const outcome of [404, 422, 'timeout'] as const) {
      const f = fixture([outcome]);
      await assert.rejects(f.getProduct());
      assert.equal(f.calls(), 1, String(outcome));
    }
  });

  it('when the breaker opens during the retries, then the fallback answers instead of another attempt', async () => {
    const f = fixture(['ok', 500]);
    await f.getProduct();
    await assert.rejects(f.getProduct(), (e: HttpError) => e.status === 500);
    const answer = await f.getProduct(7);
    assert.equal(f.breaker.state, 'OPEN');
    assert.deepEqual(answer, { productId: 7, name: 'Fallback product7', weight: 7, serviceAddress: '' });
    assert.equal(f.calls(), 5);
  });

  it('when the breaker is open, then productId 13 is not in the fallback cache: 404', async () => {
    const f = fixture(['timeout']);
    for (let i = 0; i < 5; i++) await f.getProduct().catch(() => undefined);
    await assert.rejects(
      f.getProduct(13),
      (e: HttpError) => e.status === 404 && e.message === 'Product Id: 13 not found in fallback cache!',
    );
  });
});
