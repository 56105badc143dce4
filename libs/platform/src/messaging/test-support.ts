import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import type { ChannelModel, ConfirmChannel, GetMessage } from 'amqplib';
import { pino, type Logger } from 'pino';
import { Value } from '@landscape/vendor/typebox/value';
import { AUDIT_GROUP, deadLetterQueueName, queueName } from './bus.ts';
import { messagingConfigSchema, type MessagingConfig } from './config.ts';
import { withTimeout } from '../timing.ts';

export const brokerUrl = 'amqp://guest:guest@127.0.0.1:5672';

export function testLogger(): Logger {
  return pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });
}

/** Names unique to one test, so tests never share a queue. */
export function uniqueDestination(name: string): string {
  return `t-${randomUUID().slice(0, 8)}-${name}`;
}

export function testConfig(overrides: Partial<MessagingConfig> = {}): MessagingConfig {
  const config = Value.Default(messagingConfigSchema, {
    kind: 'rabbitmq',
    rabbitmq: {
      host: '127.0.0.1',
      port: 5672,
      username: 'guest',
      password: 'guest',
      confirmTimeoutMs: 2000,
      reconnectInitialMs: 100,
      reconnectMaxMs: 1000,
    },
    ...overrides,
  }) as MessagingConfig;
  if (!Value.Check(messagingConfigSchema, config)) throw new Error('invalid test configuration');
  return config;
}

/** Fails the test if the promise has not settled within the limit. */
export function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  return withTimeout(promise, timeoutMs, () => new Error(`${what} did not settle within ${timeoutMs} ms`));
}

export interface BrokerAdmin {
  publishRaw(exchange: string, content: Buffer): Promise<void>;
  messageCount(queue: string): Promise<number>;
  get(queue: string): Promise<GetMessage | false>;
  deleteTopology(destination: string, groups: string[]): Promise<void>;
  close(): Promise<void>;
}

/** A direct connection for inspecting and cleaning up, independent of the bus under test. */
export async function brokerAdmin(): Promise<BrokerAdmin> {
  let connection: ChannelModel = await amqp.connect(brokerUrl);
  connection.on('error', () => {});
  // A failed check closes its channel, so each operation gets a fresh one.
  async function withChannel<T>(use: (channel: ConfirmChannel) => Promise<T>): Promise<T> {
    let channel: ConfirmChannel;
    try {
      channel = await connection.createConfirmChannel();
    } catch {
      // The broker was restarted under us.
      connection = await amqp.connect(brokerUrl);
      connection.on('error', () => {});
      channel = await connection.createConfirmChannel();
    }
    channel.on('error', () => {});
    try {
      return await use(channel);
    } finally {
      await channel.close().catch(() => {});
    }
  }
  return {
    publishRaw: (exchange, content) =>
      withChannel(async (channel) => {
        channel.publish(exchange, exchange, content, { persistent: true });
        await channel.waitForConfirms();
      }),
    messageCount: (queue) => withChannel(async (channel) => (await channel.checkQueue(queue)).messageCount),
    get: (queue) => withChannel((channel) => channel.get(queue, { noAck: true })),
    async deleteTopology(destination, groups) {
      // Best effort: cleanup must never hide the test's own failure.
      const ignore = (): void => {};
      for (const group of new Set([AUDIT_GROUP, ...groups])) {
        await withChannel((channel) => channel.deleteQueue(queueName(destination, group))).catch(ignore);
        await withChannel((channel) => channel.deleteQueue(deadLetterQueueName(destination, group))).catch(ignore);
      }
      await withChannel((channel) => channel.deleteExchange(destination)).catch(ignore);
    },
    close: () => connection.close().catch(() => {}),
  };
}

const run = promisify(execFile);

export async function rabbitmqctl(command: 'stop_app' | 'start_app'): Promise<void> {
  await run('rabbitmqctl', [command], { timeout: 60000 });
}

/** The events the bus tests publish: a key, and a sequence number that shows the order of arrival. */
export interface TestEvent {
  eventType: 'CREATE' | 'DELETE';
  key: number;
  data: { seq: number } | null;
}

export function event(eventType: TestEvent['eventType'], key: number, seq = 0): TestEvent {
  return { eventType, key, data: eventType === 'CREATE' ? { seq } : null };
}

/** A handler that records each key's sequence numbers and how many handlers ever ran at once. */
export function orderRecorder() {
  const perKey = new Map<number, number[]>();
  let running = 0;
  let maxRunning = 0;
  return {
    perKey,
    count: () => [...perKey.values()].flat().length,
    maxRunning: () => maxRunning,
    async handler(payload: unknown): Promise<void> {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((resolve) => setImmediate(resolve));
      const { key, data } = payload as TestEvent;
      perKey.set(key, [...(perKey.get(key) ?? []), data?.seq ?? -1]);
      running -= 1;
    },
  };
}
