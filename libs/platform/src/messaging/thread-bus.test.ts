import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { Delivered } from './bus.ts';
import { BusUnavailableError } from './errors.ts';
import { createInProcessBus } from './in-process.ts';
import { event, testConfig, testLogger, type TestEvent } from './test-support.ts';
import { connectBus, HEALTH_INTERVAL_MS, serveBus } from './thread-bus.ts';
import { eventually } from '../testing/eventually.ts';

/** A bus served on one end of a channel and the publishing side on the other, as two threads have them. */
function sharedBus() {
  const owned = createInProcessBus(testConfig({ kind: 'in-process' }), testLogger());
  const { port1, port2 } = new MessageChannel();
  serveBus(owned, port1);
  const remote = connectBus(port2);
  return {
    owned,
    remote,
    close: async () => {
      await remote.close();
      await owned.close();
    },
  };
}

describe('a bus shared with another thread', () => {
  test('when events are published through the port, then the consumer on the owning side gets them in order, with their headers', async () => {
    const { owned, remote, close } = sharedBus();
    const applied: Array<{ type: string; traceparent?: string }> = [];
    await owned.subscribe('products', 'productsGroup', async (payload, delivered?: Delivered) => {
      applied.push({ type: (payload as TestEvent).eventType, traceparent: delivered?.headers['traceparent'] });
    });
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await remote.publish([
      { destination: 'products', payload: event('CREATE', 1), headers: { traceparent } },
      { destination: 'products', payload: event('DELETE', 1) },
    ]);
    await eventually(() => applied.length === 2, { what: 'both events' });
    assert.deepEqual(applied, [
      { type: 'CREATE', traceparent },
      { type: 'DELETE', traceparent: undefined },
    ]);
    await close();
  });

  test('when publish resolves, then the owning bus has already accepted every message', async () => {
    const { owned, remote, close } = sharedBus();
    await remote.publish([{ destination: 'reviews', payload: event('CREATE', 7) }]);
    assert.deepEqual(owned.audit('reviews'), [event('CREATE', 7)]);
    await close();
  });

  test('when a payload cannot be copied, then publish rejects and nothing of that batch reaches the bus', async () => {
    const { owned, remote, close } = sharedBus();
    await assert.rejects(
      remote.publish([
        { destination: 'products', payload: event('CREATE', 1) },
        { destination: 'products', payload: { eventType: 'CREATE', key: 2, data: () => 'a function' } },
      ]),
      { name: 'DataCloneError' },
    );
    await remote.publish([{ destination: 'products', payload: event('CREATE', 3) }]);
    assert.deepEqual(owned.audit('products'), [event('CREATE', 3)]);
    await close();
  });

  test('when the owning bus is closed, then publish rejects with BusUnavailableError, which the composite answers 503', async () => {
    const { owned, remote, close } = sharedBus();
    await owned.close();
    await assert.rejects(remote.publish([{ destination: 'products', payload: event('CREATE', 1) }]), (error) => {
      assert.ok(error instanceof BusUnavailableError);
      assert.equal(error.message, 'Message bus is closed');
      return true;
    });
    await close();
  });

  test('when the owning thread ends, then a waiting publish and every later one reject with BusUnavailableError and health turns DOWN', async () => {
    const { port1, port2 } = new MessageChannel();
    // The owning side receives the port and never answers, then its thread ends.
    const worker = new Worker('require("node:worker_threads").parentPort.once("message", () => process.exit(0));', {
      eval: true,
    });
    const remote = connectBus(port2);
    const waiting = remote.publish([{ destination: 'products', payload: event('CREATE', 1) }]);
    worker.postMessage(port1, [port1]);
    await assert.rejects(waiting, BusUnavailableError);
    await assert.rejects(
      remote.publish([{ destination: 'products', payload: event('CREATE', 2) }]),
      BusUnavailableError,
    );
    assert.equal(remote.health().status, 'DOWN');
    await remote.close();
  });

  test('when the owning side stops after reporting UP, then health turns DOWN and keeps the first reason', async () => {
    const owned = createInProcessBus(testConfig({ kind: 'in-process' }), testLogger());
    const { port1, port2 } = new MessageChannel();
    serveBus(owned, port1);
    const remote = connectBus(port2);
    await eventually(() => remote.health().status === 'UP', { what: 'the first health report' });
    port1.close();
    const stopped = {
      status: 'DOWN',
      details: { kind: 'in-process', error: 'Message bus is closed: its thread has stopped' },
    };
    await eventually(() => assert.deepEqual(remote.health(), stopped));
    await remote.close();
    assert.deepEqual(remote.health(), stopped);
    await owned.close();
  });

  test("when the owning side's consumers are running, then health on the publishing side reports them within one interval", async () => {
    const { owned, remote, close } = sharedBus();
    await owned.subscribe('products', 'productsGroup', async () => {});
    await new Promise((resolve) => setTimeout(resolve, HEALTH_INTERVAL_MS * 2));
    const health = remote.health();
    assert.equal(health.status, 'UP');
    assert.deepEqual(health, owned.health());
    await close();
  });

  test('when a consumer subscribes on the publishing side, then it is refused: consumers run beside the bus', async () => {
    const { remote, close } = sharedBus();
    await assert.rejects(
      remote.subscribe('products', 'productsGroup', async () => {}),
      /thread that owns the bus/,
    );
    await close();
  });
});
