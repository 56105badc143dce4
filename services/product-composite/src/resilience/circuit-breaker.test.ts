import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CallNotPermittedError, CircuitBreaker, type Outcome } from './circuit-breaker.ts';

const settings = {
  windowSize: 5,
  failureRateThreshold: 50,
  waitInOpenMs: 10000,
  halfOpenCalls: 3,
  eventBufferSize: 10,
};

class NotFound extends Error {}

function fixture() {
  let now = Date.parse('2026-01-01T00:00:00Z');
  const heard: string[] = [];
  const breaker = new CircuitBreaker(
    'product',
    settings,
    () => now,
    (from, to) => heard.push(`${from}>${to}`),
  );
  const classify = (error: unknown): Outcome => (error instanceof NotFound ? 'ignored' : 'failure');
  return {
    breaker,
    advance: (ms: number) => {
      now += ms;
    },
    ok: () => breaker.run(async () => 'ok', classify),
    fail: () =>
      breaker
        .run(async () => {
          throw new Error('boom');
        }, classify)
        .catch((e: unknown) => e),
    notFound: () =>
      breaker
        .run(async () => {
          throw new NotFound();
        }, classify)
        .catch((e: unknown) => e),
    transitions: () => breaker.events.map((e) => e.stateTransition),
    heard,
  };
}

describe('circuit breaker', () => {
  it('when it goes round its cycle, then its listener hears each transition as it happens, the lazy one to HALF_OPEN included', async () => {
    const f = fixture();
    for (let i = 0; i < 5; i++) await f.fail();
    assert.deepEqual(f.heard, ['CLOSED>OPEN']);
    f.advance(settings.waitInOpenMs);
    void f.breaker.state;
    for (let i = 0; i < 3; i++) await f.ok();
    assert.deepEqual(f.heard, ['CLOSED>OPEN', 'OPEN>HALF_OPEN', 'HALF_OPEN>CLOSED']);
  });

  it('when fewer calls than the window have been recorded, then it stays CLOSED whatever they were', async () => {
    const f = fixture();
    for (let i = 0; i < 4; i++) await f.fail();
    assert.equal(f.breaker.state, 'CLOSED');
  });

  it('when the failure rate of the last 5 calls reaches 50 %, then it opens and rejects calls without running them', async () => {
    const f = fixture();
    await f.ok();
    await f.ok();
    await f.fail();
    await f.fail();
    assert.equal(f.breaker.state, 'CLOSED');
    await f.fail();
    assert.equal(f.breaker.state, 'OPEN');
    let ran = false;
    await assert.rejects(
      f.breaker.run(
        async () => {
          ran = true;
        },
        () => 'failure',
      ),
      CallNotPermittedError,
    );
    assert.equal(ran, false);
    assert.deepEqual(f.transitions(), ['CLOSED_TO_OPEN']);
  });

  it('when 2 of the last 5 calls failed, then it stays CLOSED (40 % is below the threshold)', async () => {
    const f = fixture();
    await f.fail();
    await f.fail();
    await f.ok();
    await f.ok();
    await f.ok();
    assert.equal(f.breaker.state, 'CLOSED');
    assert.equal(f.breaker.metrics().failureRate, 40);
  });

  it('when calls end in 404 or 422, then they count neither as failures nor as successes', async () => {
    const f = fixture();
    for (let i = 0; i < 10; i++) await f.notFound();
    assert.equal(f.breaker.metrics().bufferedCalls, 0);
    await f.ok();
    await f.ok();
    await f.fail();
    await f.fail();
    for (let i = 0; i < 5; i++) await f.notFound();
    await f.fail();
    assert.equal(f.breaker.state, 'OPEN');
  });

  it('when the wait in OPEN is over, then it is HALF_OPEN without any call and permits exactly 3 trial calls', async () => {
    const f = fixture();
    for (let i = 0; i < 5; i++) await f.fail();
    f.advance(9999);
    assert.equal(f.breaker.state, 'OPEN');
    f.advance(1);
    assert.equal(f.breaker.state, 'HALF_OPEN');
    const pending: Array<() => void> = [];
    const trials = [0, 1, 2].map(() =>
      f.breaker.run(
        () => new Promise<void>((resolve) => pending.push(resolve)),
        () => 'failure',
      ),
    );
    await assert.rejects(
      f.breaker.run(
        async () => undefined,
        () => 'failure',
      ),
      CallNotPermittedError,
    );
    for (const resolve of pending) resolve();
    await Promise.all(trials);
    assert.equal(f.breaker.state, 'CLOSED');
    assert.deepEqual(f.transitions(), ['CLOSED_TO_OPEN', 'OPEN_TO_HALF_OPEN', 'HALF_OPEN_TO_CLOSED']);
  });

  it('when the trial calls fail at the threshold rate, then it re-opens for another wait', async () => {
    const f = fixture();
    for (let i = 0; i < 5; i++) await f.fail();
    f.advance(10000);
    await f.fail();
    await f.ok();
    await f.fail();
    assert.equal(f.breaker.state, 'OPEN');
    assert.deepEqual(f.transitions(), ['CLOSED_TO_OPEN', 'OPEN_TO_HALF_OPEN', 'HALF_OPEN_TO_OPEN']);
    f.advance(10000);
    assert.equal(f.breaker.state, 'HALF_OPEN');
  });

  it('when a trial call ends in 404, then its permit is given back', async () => {
    const f = fixture();
    for (let i = 0; i < 5; i++) await f.fail();
    f.advance(10000);
    await f.notFound();
    await f.notFound();
    await f.ok();
    await f.ok();
    await f.ok();
    assert.equal(f.breaker.state, 'CLOSED');
  });

  it('when closed again, then a fresh window of 5 calls is needed before it can open', async () => {
    const f = fixture();
    for (let i = 0; i < 5; i++) await f.fail();
    f.advance(10000);
    await f.ok();
    await f.ok();
    await f.ok();
    for (let i = 0; i < 4; i++) await f.fail();
    assert.equal(f.breaker.state, 'CLOSED');
    await f.fail();
    assert.equal(f.breaker.state, 'OPEN');
  });

  it('keeps only the latest transitions, as many as the event buffer holds', async () => {
    const f = fixture();
    for (let cycle = 0; cycle < 6; cycle++) {
      for (let i = 0; i < 5; i++) await f.fail();
      f.advance(10000);
      await f.ok();
      await f.ok();
      await f.ok();
    }
    assert.equal(f.breaker.events.length, 10);
    assert.equal(f.breaker.events.at(-1)?.stateTransition, 'HALF_OPEN_TO_CLOSED');
  });
});
