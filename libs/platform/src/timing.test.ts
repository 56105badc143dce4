import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay, withTimeout } from './timing.ts';

describe('timing', () => {
  it('when the work settles first, then its value or error is what the race gives', async () => {
    assert.equal(await withTimeout(Promise.resolve(7), 1000, () => new Error('late')), 7);
    await assert.rejects(
      withTimeout(Promise.reject(new Error('own failure')), 1000, () => new Error('late')),
      /own failure/,
    );
  });

  it("when the work never settles, then the race rejects with the timeout's own error", async () => {
    await assert.rejects(
      withTimeout(new Promise(() => {}), 5, () => new RangeError('no answer within 5 ms')),
      RangeError,
    );
  });

  it('when retries follow one another, then each waits multiplier times longer, up to the maximum', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((retry) => backoffDelay(retry, { initialMs: 200, maxMs: 800 })),
      [200, 400, 800, 800, 800],
    );
    assert.deepEqual(
      [0, 1, 2].map((retry) => backoffDelay(retry, { initialMs: 100, maxMs: 10_000, multiplier: 3 })),
      [100, 300, 900],
    );
    assert.equal(backoffDelay(0, { initialMs: 5000, maxMs: 1000 }), 1000, 'never above the maximum, even at first');
    assert.equal(backoffDelay(10_000, { initialMs: 0, maxMs: 1000 }), 0, 'a long outage stays a number');
    assert.equal(backoffDelay(10_000, { initialMs: 1, maxMs: 1000 }), 1000);
  });
});
