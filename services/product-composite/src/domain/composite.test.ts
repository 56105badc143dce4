import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkAggregate, faultsFrom } from './composite.ts';

const status = (expected: number, message: string) => (error: { status?: number; message?: string }) =>
  error.status === expected && error.message === message;

describe('composite domain rules', () => {
  it('when an aggregate repeats an id within a part or has a productId below 1, then 422 names it; ids may repeat across parts', () => {
    const base = { productId: 1, name: 'n', weight: 1 };
    assert.throws(() => checkAggregate({ ...base, productId: 0 }), status(422, 'Invalid productId: 0'));
    const recommendation = { recommendationId: 7, author: 'a', rate: 1, content: 'c' };
    assert.throws(
      () => checkAggregate({ ...base, recommendations: [recommendation, recommendation] }),
      status(422, 'Duplicate recommendationId: 7'),
    );
    const review = { reviewId: 7, author: 'a', subject: 's', content: 'c' };
    assert.throws(
      () => checkAggregate({ ...base, reviews: [review, { ...review, reviewId: 8 }, review] }),
      status(422, 'Duplicate reviewId: 7'),
    );
    assert.doesNotThrow(() => checkAggregate({ ...base, recommendations: [recommendation], reviews: [review] }));
  });

  it('when fault injection is off, then fault parameters are ignored; when on, they are whole numbers or 400', () => {
    assert.deepEqual(faultsFrom({ delay: 'x' }, false), {});
    assert.deepEqual(faultsFrom({ delay: '3' }, true), { delay: 3 });
    assert.deepEqual(faultsFrom({ delay: '0', faultPercent: '50' }, true), { delay: 0, faultPercent: 50 });
    assert.throws(() => faultsFrom({ faultPercent: 'x' }, true), status(400, 'Type mismatch.'));
  });
});
