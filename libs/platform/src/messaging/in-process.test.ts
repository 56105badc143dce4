import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BusUnavailableError, EventRejectedError } from './errors.ts';
import { createInProcessBus } from './in-process.ts';
import type { MessagingConfig } from './config.ts';
import { event, orderRecorder, testConfig, testLogger, type TestEvent } from './test-support.ts';
import { eventually } from '../testing/eventually.ts';

type Event = TestEvent;

function config(overrides: Partial<MessagingConfig> = {}): MessagingConfig {
  return testConfig({ kind: 'in-process', ...overrides });
}

describe('in-process bus', () => {
  test('when a CREATE then a DELETE for one key are published, then they are applied in that order', async () => {
    const bus = createInProcessBus(config(), testLogger());
    const applied: string[] = [];
    await bus.subscribe('products', 'productsGroup', async (payload) => {
      applied.push((payload as Event).eventType);
    });
    await bus.publish([{ destination: 'products', payload: event('CREATE', 1) }]);
    await bus.publish([{ destination: 'products', payload: event('DELETE', 1) }]);
    await eventually(() => applied.length === 2, { what: 'both events' });
    assert.deepEqual(applied, ['CREATE', 'DELETE']);
    await bus.close();
  });

  test('when many events for several keys are published, then each key keeps publish order and one handler runs at a time', async () => {
    const bus = createInProcessBus(config(), testLogger());
    const recorder = orderRecorder();
    const { perKey } = recorder;
    await bus.subscribe('reviews', 'reviewsGroup', recorder.handler);
    for (let seq = 0; seq < 60; seq += 1)
      await bus.publish([{ destination: 'reviews', payload: event('CREATE', seq % 4, seq) }]);
    await eventually(() => [...perKey.values()].flat().length === 60, { what: 'all 60 events' });
    for (const [key, seqs] of perKey)
      assert.deepEqual(
        seqs,
        [...seqs].sort((a, b) => a - b),
        `order of key ${key}`,
      );
    assert.equal(recorder.maxRunning(), 1);
    await bus.close();
  });

  test('when a handler rejects an event, then it is attempted 3 times, dead-lettered with the reason, and later events still flow', async () => {
    const bus = createInProcessBus(config(), testLogger());
    const attempts = new Map<number, number>();
    const applied: number[] = [];
    await bus.subscribe('products', 'productsGroup', async (payload) => {
      const { key } = payload as Event;
      attempts.set(key, (attempts.get(key) ?? 0) + 1);
      if (key === 1) throw new EventRejectedError('Duplicate key, Product Id: 1');
      applied.push(key);
    });
    await bus.publish([
      { destination: 'products', payload: event('CREATE', 1) },
      { destination: 'products', payload: event('CREATE', 2) },
    ]);
    await eventually(() => applied.includes(2), { what: 'the good event after the poison one' });
    assert.equal(attempts.get(1), 3);
    assert.deepEqual(bus.deadLetters('products', 'productsGroup'), [
      { payload: event('CREATE', 1), reason: 'Duplicate key, Product Id: 1' },
    ]);
    await bus.close();
  });

  test('when the infrastructure fails, then the consumer shows as paused, nothing is dead-lettered, and the event is applied once it is back', async () => {
    const bus = createInProcessBus(
      config({
        retry: { maxAttempts: 3, initialIntervalMs: 20, multiplier: 2, maxIntervalMs: 40 },
        infraRetryMaxMs: 50,
      }),
      testLogger(),
    );
    let databaseUp = false;
    const applied: number[] = [];
    await bus.subscribe('products', 'productsGroup', async (payload) => {
      if (!databaseUp) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      applied.push((payload as Event).key);
    });
    await bus.publish([
      { destination: 'products', payload: event('CREATE', 1) },
      { destination: 'products', payload: event('CREATE', 2) },
    ]);
    await eventually(
      () => {
        const consumer = bus.health().details['consumers'] as Record<string, { state: string; retries?: number }>;
        return (consumer['products.productsGroup']?.retries ?? 0) >= 4;
      },
      { what: 'the consumer to be paused for a few retries' },
    );
    const consumer = (bus.health().details['consumers'] as Record<string, Record<string, unknown>>)[
      'products.productsGroup'
    ];
    assert.equal(consumer?.['state'], 'paused');
    assert.match(String(consumer?.['error']), /ECONNREFUSED/);
    assert.deepEqual(applied, []);
    databaseUp = true;
    await eventually(() => applied.length === 2, { what: 'both events once the database is back' });
    assert.deepEqual(applied, [1, 2]);
    assert.deepEqual(bus.deadLetters('products', 'productsGroup'), []);
    assert.equal(
      (bus.health().details['consumers'] as Record<string, { state: string }>)['products.productsGroup']?.state,
      'consuming',
    );
    await bus.close();
  });

  test('when a consumer stays paused on the infrastructure beyond stuckAfterMs, then the bus is DOWN naming it, and UP again once it recovers', async () => {
    const bus = createInProcessBus(
      config({
        retry: { maxAttempts: 3, initialIntervalMs: 20, multiplier: 2, maxIntervalMs: 40 },
        infraRetryMaxMs: 50,
        stuckAfterMs: 0,
      }),
      testLogger(),
    );
    let databaseUp = false;
    const applied: number[] = [];
    await bus.subscribe('products', 'productsGroup', async (payload) => {
      if (!databaseUp) throw new Error('permission denied for table products');
      applied.push((payload as Event).key);
    });
    await bus.publish([{ destination: 'products', payload: event('CREATE', 1) }]);
    await eventually(() => bus.health().status === 'DOWN', { what: 'the stuck consumer to take the bus down' });
    const health = bus.health();
    assert.deepEqual(health.details['stuck'], ['products.productsGroup']);
    assert.match(
      String(health.details['error']),
      /^consumer products\.productsGroup is held up by the infrastructure: permission denied for table products$/,
    );
    assert.equal(
      (health.details['consumers'] as Record<string, { state: string }>)['products.productsGroup']?.state,
      'stuck',
    );
    databaseUp = true;
    await eventually(() => applied.length === 1, { what: 'the event once the table is usable' });
    assert.equal(bus.health().status, 'UP');
    assert.equal(bus.health().details['stuck'], undefined);
    await bus.close();
  });

  test('when a consumer is paused within stuckAfterMs, then the bus stays UP and shows it as paused', async () => {
    const bus = createInProcessBus(
      config({
        retry: { maxAttempts: 3, initialIntervalMs: 20, multiplier: 2, maxIntervalMs: 40 },
        infraRetryMaxMs: 50,
        stuckAfterMs: 3_600_000,
      }),
      testLogger(),
    );
    await bus.subscribe('products', 'productsGroup', async () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    });
    await bus.publish([{ destination: 'products', payload: event('CREATE', 1) }]);
    await eventually(
      () =>
        ((bus.health().details['consumers'] as Record<string, { retries?: number }>)['products.productsGroup']
          ?.retries ?? 0) >= 2,
      { what: 'a few retries' },
    );
    assert.equal(bus.health().status, 'UP');
    assert.equal(
      (bus.health().details['consumers'] as Record<string, { state: string }>)['products.productsGroup']?.state,
      'paused',
    );
    await bus.close();
  });

  test('when events are published before anyone subscribes to a required group, then they are applied once it subscribes', async () => {
    const bus = createInProcessBus(
      config({ requiredGroups: { products: ['productsGroup', 'auditGroup'] } }),
      testLogger(),
    );
    await bus.publish([{ destination: 'products', payload: event('CREATE', 7) }]);
    const applied: number[] = [];
    await bus.subscribe('products', 'productsGroup', async (payload) => {
      applied.push((payload as Event).key);
    });
    await eventually(() => applied.length === 1, { what: 'the early event' });
    assert.deepEqual(applied, [7]);
    await bus.close();
  });

  test('when events are published, then the audit keeps the latest auditMaxLength of them', async () => {
    const bus = createInProcessBus(config({ auditMaxLength: 3 }), testLogger());
    for (let key = 1; key <= 5; key += 1)
      await bus.publish([{ destination: 'products', payload: event('CREATE', key) }]);
    assert.deepEqual(
      bus.audit('products').map((payload) => (payload as Event).key),
      [3, 4, 5],
    );
    await bus.close();
  });

  test('when publisher or consumer mutate a payload, then the other never sees it', async () => {
    const bus = createInProcessBus(config(), testLogger());
    const received: Event[] = [];
    await bus.subscribe('products', 'productsGroup', async (payload) => {
      const copy = payload as Event;
      received.push(structuredClone(copy));
      copy.key = -1;
    });
    const original = event('CREATE', 1, 1);
    await bus.publish([{ destination: 'products', payload: original }]);
    original.key = 99;
    await eventually(() => received.length === 1, { what: 'the event' });
    assert.equal(received[0]?.key, 1);
    assert.equal(original.key, 99);
    assert.equal((bus.audit('products')[0] as Event).key, 1);
    await bus.close();
  });

  test('when closed while a handler is in flight, then close waits for it to finish and later publishes reject', async () => {
    const bus = createInProcessBus(config(), testLogger());
    let release: () => void = () => {};
    let markStarted: () => void = () => {};
    const started = new Promise<void>((resolve) => (markStarted = resolve));
    await bus.subscribe('products', 'productsGroup', async () => {
      markStarted();
      await new Promise<void>((resolve) => (release = resolve));
    });
    await bus.publish([{ destination: 'products', payload: event('CREATE', 1) }]);
    await started;
    let closed = false;
    const closing = bus.close().then(() => (closed = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(closed, false);
    release();
    await closing;
    assert.equal(closed, true);
    assert.equal(bus.health().status, 'DOWN');
    await assert.rejects(bus.publish([{ destination: 'products', payload: event('CREATE', 2) }]), BusUnavailableError);
  });
});
