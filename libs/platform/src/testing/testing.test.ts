import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorBody } from '../errors.ts';
import { assertContractError } from './contract.ts';
import { eventually } from './eventually.ts';

describe('eventually', () => {
  it('when the check passes at once, then its result is returned after one try', async () => {
    let tries = 0;
    assert.equal(await eventually(() => ++tries && 'done'), 'done');
    assert.equal(tries, 1);
  });

  it('when the check throws or returns false at first, then it is tried again until it passes', async () => {
    let tries = 0;
    const result = await eventually(
      () => {
        tries += 1;
        if (tries === 1) throw new Error('not yet');
        return tries >= 3 && tries;
      },
      { intervalMs: 1 },
    );
    assert.equal(result, 3);
  });

  it('when the check keeps throwing, then its last error is rethrown', async () => {
    let tries = 0;
    await assert.rejects(
      eventually(
        () => {
          tries += 1;
          throw new Error(`failure ${tries}`);
        },
        { timeoutMs: 20, intervalMs: 1 },
      ),
      (error: Error) => error.message === `failure ${tries}`,
    );
  });

  it('when the check keeps returning false, then the error names what was awaited', async () => {
    await assert.rejects(
      eventually(() => false, { timeoutMs: 20, intervalMs: 1, what: 'the sky to fall' }),
      {
        message: 'Timed out after 20 ms waiting for the sky to fall',
      },
    );
  });
});

describe('assertContractError', () => {
  const answer = (body: unknown, status = 404) => ({ status, body });
  const good = errorBody(404, '/product/13', 'No product found for productId: 13', 'req-1');

  it("when the answer is the contract's error, then it passes, by exact message or pattern, with or without a path", () => {
    assertContractError(answer(good), 404, 'No product found for productId: 13', '/product/13');
    assertContractError(answer(good), 404, /^No product found/);
    const { requestId: _, ...withoutRequestId } = good;
    assertContractError(answer(withoutRequestId), 404, 'No product found for productId: 13');
  });

  it('when anything in the answer departs from the contract, then it fails', () => {
    const { timestamp: _, ...withoutTimestamp } = good;
    const failing: Array<[string, () => void]> = [
      ['another status', () => assertContractError(answer(good, 400), 404, /./)],
      ['another expected status', () => assertContractError(answer(good), 400, /./)],
      ['another message', () => assertContractError(answer(good), 404, 'No product found for productId: 14')],
      ['a message the pattern misses', () => assertContractError(answer(good), 404, /^Invalid/)],
      ['another path', () => assertContractError(answer(good), 404, /./, '/product/14')],
      ['a missing key', () => assertContractError(answer(withoutTimestamp), 404, /./)],
      ['an extra key', () => assertContractError(answer({ ...good, detail: 'x' }), 404, /./)],
      ['a wrong reason phrase', () => assertContractError(answer({ ...good, error: 'Oops' }), 404, /./)],
      ['a body status of its own', () => assertContractError(answer({ ...good, status: 400 }), 404, /./)],
      ['a timestamp that is no date', () => assertContractError(answer({ ...good, timestamp: 'now' }), 404, /./)],
      ['a request id that is no string', () => assertContractError(answer({ ...good, requestId: 7 }), 404, /./)],
      ['no body', () => assertContractError(answer(undefined), 404, /./)],
    ];
    for (const [what, check] of failing) assert.throws(check, assert.AssertionError, what);
  });
});
