import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deliver, type RetryPolicy, type Wait } from './delivery.ts';
import { EventRejectedError } from './errors.ts';
import { testLogger } from './test-support.ts';

const policy: RetryPolicy = {
  maxAttempts: 3,
  initialIntervalMs: 500,
  multiplier: 2,
  maxIntervalMs: 1000,
  infraRetryMaxMs: 10000,
};

/** Records the backoff asked for instead of sleeping. */
function recordingWait(stopAfter = Infinity): { waits: number[]; wait: Wait; abort: AbortController } {
  const waits: number[] = [];
  const abort = new AbortController();
  return {
    waits,
    abort,
    wait: async (ms) => {
      waits.push(ms);
      if (waits.length >= stopAfter) abort.abort();
      return !abort.signal.aborted;
    },
  };
}

describe('deliver (the retry and dead-letter decision shared by every bus)', () => {
  test('when the handler succeeds, then the event is handled on the first attempt', async () => {
    const { wait, waits, abort } = recordingWait();
    const outcome = await deliver({
      decode: () => 1,
      handler: async () => {},
      policy,
      signal: abort.signal,
      log: testLogger(),
      wait,
    });
    assert.deepEqual(outcome, { kind: 'handled', attempts: 1 });
    assert.deepEqual(waits, []);
  });

  test('when the event is rejected every time, then it is attempted 3 times with 500 and 1000 ms between and dead-lettered with the reason', async () => {
    const { wait, waits, abort } = recordingWait();
    let calls = 0;
    const outcome = await deliver({
      decode: () => ({}),
      handler: async () => {
        calls += 1;
        throw new EventRejectedError('Duplicate key, Product Id: 1');
      },
      policy,
      signal: abort.signal,
      log: testLogger(),
      wait,
    });
    assert.deepEqual(outcome, { kind: 'dead-letter', attempts: 3, reason: 'Duplicate key, Product Id: 1' });
    assert.equal(calls, 3);
    assert.deepEqual(waits, [500, 1000]);
  });

  test('when the body cannot be decoded, then it counts as a rejected event', async () => {
    const { wait, abort } = recordingWait();
    let handled = 0;
    const outcome = await deliver({
      decode: () => {
        throw new EventRejectedError('Malformed message body, not JSON');
      },
      handler: async () => {
        handled += 1;
      },
      policy,
      signal: abort.signal,
      log: testLogger(),
      wait,
    });
    assert.equal(outcome.kind, 'dead-letter');
    assert.equal(handled, 0);
  });

  test('when the infrastructure fails, then the same event is retried with backoff capped at infraRetryMaxMs, never dead-lettered, and the failures are reported', async () => {
    const { wait, waits, abort } = recordingWait();
    const reported: number[] = [];
    let calls = 0;
    const outcome = await deliver({
      decode: () => ({}),
      handler: async () => {
        calls += 1;
        if (calls <= 7) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      },
      policy,
      signal: abort.signal,
      log: testLogger(),
      wait,
      onInfrastructureFailure: (_error, retries) => reported.push(retries),
    });
    assert.deepEqual(outcome, { kind: 'handled', attempts: 1 });
    assert.deepEqual(waits, [500, 1000, 2000, 4000, 8000, 10000, 10000]);
    assert.deepEqual(reported, [1, 2, 3, 4, 5, 6, 7]);
  });

  test('when infrastructure failures come between rejections, then only the rejections count as attempts', async () => {
    const { wait, abort } = recordingWait();
    const failures = [
      new EventRejectedError('bad'),
      new Error('db down'),
      new Error('db down'),
      new EventRejectedError('bad'),
    ];
    const outcome = await deliver({
      decode: () => ({}),
      handler: async () => {
        const failure = failures.shift();
        if (failure) throw failure;
      },
      policy,
      signal: abort.signal,
      log: testLogger(),
      wait,
    });
    assert.deepEqual(outcome, { kind: 'handled', attempts: 3 });
  });

  test('when stopped while the infrastructure is failing, then the event is left for redelivery', async () => {
    const { wait, abort } = recordingWait(2);
    const outcome = await deliver({
      decode: () => ({}),
      handler: async () => {
        throw new Error('db down');
      },
      policy,
      signal: abort.signal,
      log: testLogger(),
      wait,
    });
    assert.deepEqual(outcome, { kind: 'stopped' });
  });

  test('when every attempt decodes the body, then a handler that mutates its payload cannot affect the retry', async () => {
    const { wait, abort } = recordingWait();
    const seen: unknown[] = [];
    await deliver({
      decode: () => JSON.parse('{"n":1}'),
      handler: async (payload) => {
        seen.push(structuredClone(payload));
        (payload as { n: number }).n = 99;
        if (seen.length < 2) throw new EventRejectedError('again');
      },
      policy,
      signal: abort.signal,
      log: testLogger(),
      wait,
    });
    assert.deepEqual(seen, [{ n: 1 }, { n: 1 }]);
  });
});
