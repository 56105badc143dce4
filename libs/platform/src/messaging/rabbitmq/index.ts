import type { Logger } from 'pino';
import { queueName, type BusHealth, type EventBus } from '../bus.ts';
import type { MessagingConfig, RabbitConfig } from '../config.ts';
import { retryPolicyOf, withStuckConsumers } from '../delivery.ts';
import { BusUnavailableError } from '../errors.ts';
import { errorMessage } from '../../errors.ts';
import { createConnection } from './connection.ts';
import { createConsumer, type Consumer } from './consumer.ts';
import { createPublisher } from './publisher.ts';

export { brokerConnection } from './connection.ts';

export function rabbitConfigOf(config: MessagingConfig): RabbitConfig {
  if (!config.rabbitmq)
    throw new Error('Missing configuration: messaging.rabbitmq is required when messaging.kind is rabbitmq');
  return config.rabbitmq;
}

/**
 * Connects to RabbitMQ and rejects with BusUnavailableError if the first connection fails,
 * so a service with an unreachable broker fails fast at start-up; later losses reconnect by themselves.
 */
export async function createRabbitBus(config: MessagingConfig, logger: Logger): Promise<EventBus> {
  const rabbit = rabbitConfigOf(config);
  const broker = `${rabbit.host}:${rabbit.port}`;
  const log = logger.child({ component: 'messaging', bus: 'rabbitmq', broker });
  const connection = createConnection(rabbit, log);
  const publisher = createPublisher(connection, config, rabbit.confirmTimeoutMs, log);
  const consumers = new Map<string, Consumer>();
  const consumerDeps = {
    connection,
    topology: config,
    policy: retryPolicyOf(config),
    restartBackoff: { initialMs: rabbit.reconnectInitialMs, maxMs: rabbit.reconnectMaxMs },
    confirmTimeoutMs: rabbit.confirmTimeoutMs,
    stuckAfterMs: config.stuckAfterMs,
    log,
  };
  // Every new connection starts every consumer, which declares its topology there first.
  connection.onOpen(() => {
    for (const consumer of consumers.values()) void consumer.start();
  });
  connection.onLost(() => {
    for (const consumer of consumers.values()) consumer.connectionLost();
  });
  let closing: Promise<void> | undefined;

  function health(): BusHealth {
    const details: Record<string, unknown> = {};
    const stuck: Array<{ name: string; error: string }> = [];
    for (const consumer of consumers.values()) {
      const health = consumer.health();
      details[consumer.queue] = health.details;
      if (health.stuck) stuck.push(health.stuck);
    }
    const state = connection.state();
    const up = state.kind === 'open';
    const connected = state.kind === 'open' || (state.kind === 'closing' && state.model !== undefined);
    const error = state.kind === 'closed-retrying' || state.kind === 'closing' ? state.error : undefined;
    return withStuckConsumers(
      up,
      { broker, connected, ...(error ? { error } : {}), consumers: details },
      state.kind === 'closing' ? [] : stuck,
    );
  }

  async function shutDown(): Promise<void> {
    connection.beginClose();
    const all = [...consumers.values()];
    // Stop taking new messages first.
    await Promise.all(all.map((consumer) => consumer.cancel()));
    await Promise.all([...all.map((consumer) => consumer.halt()), publisher.drain()]);
    await Promise.all(all.map((consumer) => consumer.closeChannel()));
    await connection.close();
    log.info('message bus closed');
  }

  try {
    await connection.start();
  } catch (err) {
    throw new BusUnavailableError(`Message broker unavailable at ${broker}: ${errorMessage(err)}`, { cause: err });
  }

  return {
    publish: publisher.publish,
    async subscribe(destination, group, handler, observer): Promise<void> {
      if (closing) throw new BusUnavailableError('Message bus is closed');
      const queue = queueName(destination, group);
      if (consumers.has(queue)) throw new Error(`Already subscribed to ${queue}`);
      const consumer = createConsumer({ destination, group, handler, ...(observer ? { observer } : {}) }, consumerDeps);
      consumers.set(queue, consumer);
      // While disconnected the subscription starts with the next connection.
      await consumer.start();
    },
    health,
    close(): Promise<void> {
      closing ??= shutDown();
      return closing;
    },
  };
}
