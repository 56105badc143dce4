import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { deadLetterQueueName, queueName, type EventBus } from './bus.ts';
import type { MessagingConfig } from './config.ts';
import { BusUnavailableError, EventRejectedError } from './errors.ts';
import { createBus } from './index.ts';
import { createRabbitBus } from './rabbitmq/index.ts';
import { consumerMetrics, Metrics } from '../metrics/index.ts';
import { eventually } from '../testing/eventually.ts';
import { parsePrometheusText } from '../testing/metrics.ts';
import {
  brokerAdmin,
  event,
  orderRecorder,
  rabbitmqctl,
  testConfig,
  testLogger,
  uniqueDestination,
  within,
  type BrokerAdmin,
  type TestEvent,
} from './test-support.ts';

type Event = TestEvent;

const GROUP = 'productsGroup';
const fastRetry = { maxAttempts: 3, initialIntervalMs: 20, multiplier: 2, maxIntervalMs: 40 };

type ConsumerState = { state?: string; error?: string; retries?: number };

function consumerState(bus: EventBus, destination: string, group = GROUP): ConsumerState {
  const consumers = bus.health().details['consumers'] as Record<string, ConsumerState> | undefined;
  return consumers?.[queueName(destination, group)] ?? {};
}

describe('RabbitMQ bus', () => {
  let admin: BrokerAdmin;
  const buses: EventBus[] = [];
  const destinations: string[] = [];

  // Fails, not skips, when the broker is unreachable.
  before(async () => {
    admin = await brokerAdmin();
  });

  after(async () => {
    await Promise.all(buses.map((bus) => bus.close()));
    for (const destination of destinations) await admin.deleteTopology(destination, [GROUP]);
    await admin.close();
  });

  /** A fresh destination per test, removed with everything declared for it at the end of the suite. */
  function destination(name = 'products'): string {
    const unique = uniqueDestination(name);
    destinations.push(unique);
    return unique;
  }

  async function bus(config: MessagingConfig): Promise<EventBus> {
    const created = await createRabbitBus(config, testLogger());
    buses.push(created);
    return created;
  }

  test('when the broker is unreachable at start-up, then creating the bus rejects with BusUnavailableError', async () => {
    const config = testConfig();
    const unreachable = { ...config, rabbitmq: { ...config.rabbitmq!, port: 1 } };
    await assert.rejects(createRabbitBus(unreachable, testLogger()), (error: unknown) => {
      assert.ok(error instanceof BusUnavailableError);
      assert.match(error.message, /^Message broker unavailable at 127\.0\.0\.1:1: /);
      return true;
    });
  });

  test('when createBus is asked for rabbitmq, then it connects and reports UP', async () => {
    const created = await createBus(testConfig(), testLogger());
    buses.push(created);
    assert.equal(created.health().status, 'UP');
    assert.equal(created.health().details['connected'], true);
  });

  test('when a CREATE then a DELETE for one key are published, then the consumer applies them in that order', async () => {
    const products = destination();
    const eventBus = await bus(testConfig());
    const applied: string[] = [];
    await eventBus.subscribe(products, GROUP, async (payload) => {
      applied.push(`${(payload as Event).eventType}:${(payload as Event).key}`);
    });
    await eventBus.publish([{ destination: products, payload: event('CREATE', 1) }]);
    await eventBus.publish([{ destination: products, payload: event('DELETE', 1) }]);
    await eventually(() => applied.length === 2, { what: 'both events' });
    assert.deepEqual(applied, ['CREATE:1', 'DELETE:1']);
    assert.equal(consumerState(eventBus, products).state, 'consuming');
  });

  test('when two replicas consume one group, then one is active, order holds across them, and the other takes over when it goes', async () => {
    const products = destination();
    const publisher = await bus(testConfig());
    const first = await bus(testConfig());
    const second = await bus(testConfig());
    const handled: Array<{ replica: string; key: number; seq: number }> = [];
    const handler = (replica: string) => async (payload: unknown) => {
      const { key, data } = payload as Event;
      handled.push({ replica, key, seq: data?.seq ?? -1 });
    };
    await first.subscribe(products, GROUP, handler('first'));
    await second.subscribe(products, GROUP, handler('second'));
    const publishBatch = (from: number) =>
      publisher.publish(
        Array.from({ length: 50 }, (_, i) => ({
          destination: products,
          payload: event('CREATE', (from + i) % 3, from + i),
        })),
      );
    await publishBatch(1);
    await eventually(() => handled.length === 50, { what: 'the first 50 events' });
    assert.equal(new Set(handled.map((h) => h.replica)).size, 1, 'a single replica was active');
    const active = handled[0]?.replica;
    await (active === 'first' ? first : second).close();
    await publishBatch(51);
    await eventually(() => handled.length === 100, { what: 'the next 50 events, on the standby' });
    assert.ok(
      handled.slice(50).every((h) => h.replica !== active),
      'the standby took over',
    );
    for (const key of [0, 1, 2]) {
      const seqs = handled.filter((h) => h.key === key).map((h) => h.seq);
      assert.deepEqual(
        seqs,
        [...seqs].sort((a, b) => a - b),
        `order of key ${key}`,
      );
    }
  });

  test('when many events for several keys are published, then each key keeps publish order and one handler runs at a time', async () => {
    const products = destination();
    const publisher = await bus(testConfig());
    const consumer = await bus(testConfig());
    const recorder = orderRecorder();
    const { perKey } = recorder;
    await consumer.subscribe(products, GROUP, recorder.handler);
    let seq = 0;
    for (let batch = 0; batch < 20; batch += 1) {
      const messages = Array.from({ length: 10 }, () => {
        seq += 1;
        return { destination: products, payload: event('CREATE', seq % 5, seq) };
      });
      await publisher.publish(messages);
    }
    await eventually(() => [...perKey.values()].flat().length === 200, { what: 'all 200 events' });
    for (const [key, seqs] of perKey)
      assert.deepEqual(
        seqs,
        [...seqs].sort((a, b) => a - b),
        `order of key ${key}`,
      );
    assert.equal(recorder.maxRunning(), 1);
  });

  test('when a handler rejects an event, then after exactly 3 attempts it is in <destination>.<group>.dlq with the reason in its headers, and later events still flow', async () => {
    const products = destination();
    const eventBus = await bus(testConfig());
    const attempts = new Map<number, number>();
    const applied: number[] = [];
    await eventBus.subscribe(products, GROUP, async (payload) => {
      const { key } = payload as Event;
      attempts.set(key, (attempts.get(key) ?? 0) + 1);
      if (key === 1) throw new EventRejectedError('Duplicate key, Product Id: 1');
      applied.push(key);
    });
    const poison = event('CREATE', 1);
    await eventBus.publish([
      { destination: products, payload: poison },
      { destination: products, payload: event('CREATE', 2) },
    ]);
    await eventually(() => applied.includes(2), { what: 'the good event after the poison one' });
    assert.equal(attempts.get(1), 3);
    const deadLetterQueue = deadLetterQueueName(products, GROUP);
    await eventually(async () => (await admin.messageCount(deadLetterQueue)) === 1, { what: 'the dead letter' });
    const dead = await admin.get(deadLetterQueue);
    assert.ok(dead);
    assert.deepEqual(JSON.parse(dead.content.toString()), poison);
    const headers = dead.properties.headers ?? {};
    assert.equal(headers['x-exception-message'], 'Duplicate key, Product Id: 1');
    assert.equal(headers['x-original-exchange'], products);
    assert.equal(headers['x-original-routingKey'], products);
    assert.equal(headers['x-attempts'], 3);
    assert.equal(await admin.messageCount(queueName(products, GROUP)), 0);
  });

  test("when events are handled, retried and dead-lettered through the broker, then the consumer's metrics count each, with the lag from the publish time", async () => {
    const products = destination();
    const eventBus = await bus(testConfig({ retry: fastRetry, infraRetryMaxMs: 50 }));
    const metrics = new Metrics({ enabled: true });
    let databaseUp = false;
    const applied: number[] = [];
    await eventBus.subscribe(
      products,
      GROUP,
      async (payload) => {
        const { key } = payload as Event;
        if (key === 1) throw new EventRejectedError('Duplicate key, Product Id: 1');
        if (!databaseUp) {
          databaseUp = true;
          throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
        }
        applied.push(key);
      },
      consumerMetrics(metrics)(products, GROUP),
    );
    await eventBus.publish([1, 2, 3].map((key) => ({ destination: products, payload: event('CREATE', key) })));
    await eventually(() => applied.length === 2, { what: 'the two good events' });
    const scraped = parsePrometheusText(await metrics.registry.metrics());
    const labels = { messaging_destination_name: products, messaging_consumer_group_name: GROUP };
    assert.equal(scraped.value('messaging_process_total', labels), 2);
    assert.equal(scraped.value('messaging_process_dead_lettered_total', labels), 1);
    assert.equal(scraped.value('messaging_process_retried_total', { ...labels, reason: 'rejected' }), 2);
    assert.equal(scraped.value('messaging_process_retried_total', { ...labels, reason: 'infrastructure' }), 1);
    assert.equal(scraped.value('messaging_process_lag_seconds_count', labels), 3);
    // Milliseconds from the header, read as such: a lag in seconds since 1970 would be decades.
    const lag = scraped.value('messaging_process_lag_seconds_sum', labels);
    assert.ok(lag >= 0 && lag < 3600, `lag ${lag} s`);
  });

  test('when a body that is not JSON is published to the exchange, then it ends in the DLQ with a reason and the consumer carries on', async () => {
    const products = destination();
    const eventBus = await bus(testConfig({ retry: fastRetry }));
    const applied: number[] = [];
    await eventBus.subscribe(products, GROUP, async (payload) => {
      applied.push((payload as Event).key);
    });
    await admin.publishRaw(products, Buffer.from('{"eventType": "CREATE", '));
    await eventBus.publish([{ destination: products, payload: event('CREATE', 5) }]);
    await eventually(() => applied.includes(5), { what: 'the good event after the malformed one' });
    const deadLetterQueue = deadLetterQueueName(products, GROUP);
    await eventually(async () => (await admin.messageCount(deadLetterQueue)) === 1, { what: 'the dead letter' });
    const dead = await admin.get(deadLetterQueue);
    assert.ok(dead);
    assert.equal(dead.content.toString(), '{"eventType": "CREATE", ');
    assert.match(String(dead.properties.headers?.['x-exception-message']), /not JSON/);
    assert.deepEqual(applied, [5]);
  });

  test('when the database is down, then the consumer shows as paused, takes nothing new, dead-letters nothing, and applies the events once it is back', async () => {
    const products = destination();
    const eventBus = await bus(testConfig({ retry: fastRetry, infraRetryMaxMs: 50 }));
    let databaseUp = false;
    const applied: number[] = [];
    await eventBus.subscribe(products, GROUP, async (payload) => {
      if (!databaseUp) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      applied.push((payload as Event).key);
    });
    await eventBus.publish([
      { destination: products, payload: event('CREATE', 1) },
      { destination: products, payload: event('CREATE', 2) },
    ]);
    await eventually(() => (consumerState(eventBus, products).retries ?? 0) >= 5, {
      what: 'a few infrastructure retries',
    });
    const paused = consumerState(eventBus, products);
    assert.equal(paused.state, 'paused');
    assert.match(String(paused.error), /ECONNREFUSED/);
    assert.equal(eventBus.health().status, 'UP');
    assert.deepEqual(applied, []);
    databaseUp = true;
    await eventually(() => applied.length === 2, { what: 'both events once the database is back' });
    assert.deepEqual(applied, [1, 2]);
    assert.equal(consumerState(eventBus, products).state, 'consuming');
    assert.equal(await admin.messageCount(deadLetterQueueName(products, GROUP)), 0);
  });

  test('when the bus is closed while the database is down, then the retry loop stops and the event stays queued for the next consumer', async () => {
    const products = destination();
    const config = testConfig({ retry: fastRetry, infraRetryMaxMs: 50 });
    const first = await bus(config);
    await first.subscribe(products, GROUP, async () => {
      throw new Error('database unreachable');
    });
    await first.publish([{ destination: products, payload: event('CREATE', 3) }]);
    await eventually(() => (consumerState(first, products).retries ?? 0) >= 2, { what: 'the consumer to be paused' });
    await within(first.close(), 5000, 'close during the infrastructure retry loop');
    assert.equal(await admin.messageCount(queueName(products, GROUP)), 1);
    assert.equal(await admin.messageCount(deadLetterQueueName(products, GROUP)), 0);

    const second = await bus(config);
    const applied: number[] = [];
    await second.subscribe(products, GROUP, async (payload) => {
      applied.push((payload as Event).key);
    });
    await eventually(() => applied.length === 1, { what: 'the requeued event' });
    assert.deepEqual(applied, [3]);
  });

  test('when events are published while no consumer runs (never started, or its bus closed), then they are applied when it returns', async () => {
    const products = destination();
    const config = testConfig({ requiredGroups: { [products]: [GROUP, 'auditGroup'] } });
    const publisher = await bus(config);
    // Nobody has ever consumed: the required group's queue is declared by the publish itself.
    await publisher.publish([{ destination: products, payload: event('CREATE', 1) }]);

    const applied: number[] = [];
    const handler = async (payload: unknown): Promise<void> => {
      applied.push((payload as Event).key);
    };
    const firstConsumer = await bus(config);
    await firstConsumer.subscribe(products, GROUP, handler);
    await eventually(() => applied.length === 1, { what: 'the event published before the first subscription' });
    await firstConsumer.close();

    await publisher.publish([{ destination: products, payload: event('CREATE', 2) }]);
    await publisher.publish([{ destination: products, payload: event('DELETE', 1) }]);
    const secondConsumer = await bus(config);
    await secondConsumer.subscribe(products, GROUP, handler);
    await eventually(() => applied.length === 3, { what: 'the events published while the consumer was down' });
    assert.deepEqual(applied, [1, 2, 1]);
  });

  test('when events are published, then the audit queue receives each of them, bounded by auditMaxLength', async () => {
    const products = destination();
    const eventBus = await bus(testConfig({ auditMaxLength: 5 }));
    for (let key = 1; key <= 8; key += 1)
      await eventBus.publish([{ destination: products, payload: event('CREATE', key) }]);
    const audit = queueName(products, 'auditGroup');
    assert.equal(await admin.messageCount(audit), 5);
    const oldest = await admin.get(audit);
    assert.ok(oldest);
    assert.equal((JSON.parse(oldest.content.toString()) as Event).key, 4);
    assert.equal(oldest.properties.contentType, 'application/json');
    assert.equal(oldest.properties.deliveryMode, 2);
  });

  test('when the bus is closed while a handler is in flight, then close waits for it, acknowledges the event and publishes reject afterwards', async () => {
    const products = destination();
    const eventBus = await bus(testConfig());
    let release: () => void = () => {};
    let markStarted: () => void = () => {};
    let finished = false;
    const started = new Promise<void>((resolve) => (markStarted = resolve));
    await eventBus.subscribe(products, GROUP, async () => {
      markStarted();
      await new Promise<void>((resolve) => (release = resolve));
      finished = true;
    });
    await eventBus.publish([{ destination: products, payload: event('CREATE', 1) }]);
    await within(started, 10000, 'the handler to start');
    let closed = false;
    const closing = eventBus.close().then(() => (closed = true));
    // Proving that close does NOT finish while the handler runs takes a window in which nothing happens.
    await sleep(100);
    assert.equal(closed, false);
    release();
    await within(closing, 10000, 'close');
    assert.equal(finished, true);
    assert.equal(eventBus.health().status, 'DOWN');
    assert.equal(await admin.messageCount(queueName(products, GROUP)), 0);
    await assert.rejects(
      eventBus.publish([{ destination: products, payload: event('CREATE', 2) }]),
      BusUnavailableError,
    );
  });

  test('when RabbitMQ is stopped and restarted during a stream of 300 events, then publishes during the outage reject with BusUnavailableError and every confirmed event is stored', {
    timeout: 90000,
  }, async () => {
    const products = destination();
    const config = testConfig({ requiredGroups: { [products]: [GROUP] } });
    const config1500 = { ...config, rabbitmq: { ...config.rabbitmq!, confirmTimeoutMs: 1500 } };
    const publisher = await bus(config1500);
    const consumer = await bus(config1500);
    const stored = new Set<number>();
    await consumer.subscribe(products, GROUP, async (payload) => {
      stored.add((payload as Event).key); // idempotent: a redelivery changes nothing
    });

    const confirmed = new Set<number>();
    let rejected = 0;
    let markStopped: () => void = () => {};
    const stopped = new Promise<void>((resolve) => (markStopped = resolve));
    let outage: Promise<void> | undefined;
    const streamDeadline = Date.now() + 60000;
    try {
      for (let key = 1; key <= 300; key += 1) {
        if (key === 100) {
          outage = (async () => {
            await rabbitmqctl('stop_app');
            markStopped();
            const error = await within(
              publisher.publish([{ destination: products, payload: event('CREATE', 100000) }]).then(
                () => undefined,
                (thrown: unknown) => thrown,
              ),
              10000,
              'a publish while the broker is stopped',
            );
            assert.ok(error instanceof BusUnavailableError, `expected BusUnavailableError, got ${String(error)}`);
            assert.match(error.message, /^Message broker unavailable: /);
            assert.equal(publisher.health().status, 'DOWN');
            assert.equal(consumer.health().status, 'DOWN');
            await rabbitmqctl('start_app');
          })();
        }
        // The outage must fall inside the stream, not after it.
        if (key === 200) await within(stopped, 30000, 'rabbitmqctl stop_app');
        for (;;) {
          try {
            await publisher.publish([{ destination: products, payload: event('CREATE', key) }]);
            confirmed.add(key);
            break;
          } catch (error) {
            if (!(error instanceof BusUnavailableError)) throw error;
            rejected += 1;
            if (Date.now() > streamDeadline)
              throw new Error(`the broker did not come back; last error: ${error.message}`);
            await sleep(100); // as a client would after a 503
          }
        }
      }
      await outage;
      await eventually(() => [...confirmed].every((key) => stored.has(key)), {
        timeoutMs: 30000,
        what: 'every confirmed event to be stored',
      });
      assert.equal(confirmed.size, 300);
      assert.ok(rejected > 0, 'some publishes should have been rejected during the outage');
      await eventually(() => consumer.health().status === 'UP' && publisher.health().status === 'UP', {
        what: 'both buses to reconnect',
      });
      assert.equal(consumerState(consumer, products).state, 'consuming');
    } finally {
      await outage?.catch(() => {});
      // Leave the broker running whatever happened.
      await rabbitmqctl('start_app');
    }
  });
});
