import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import type { Logger } from 'pino';
import {
  AUDIT_GROUP,
  deadLetterQueueName,
  queueName,
  type BusHealth,
  type EventBus,
  type EventHandler,
  type OutgoingMessage,
} from './bus.ts';
import type { MessagingConfig, RabbitConfig } from './config.ts';
import {
  deliver,
  notePause,
  pauseHealth,
  retryPolicyOf,
  wait,
  withStuckConsumers,
  type DeliveryObserver,
  type Pause,
} from './delivery.ts';
import { BusUnavailableError, EventRejectedError } from './errors.ts';
import { errorMessage } from '../errors.ts';
import { backoffDelay, withTimeout } from '../timing.ts';
import { tlsOptions } from '../tls.ts';

// Loaded on the first connection: a process on the in-process bus never holds the AMQP client.
const require = createRequire(import.meta.url);
const amqp = () => require('amqplib') as typeof import('amqplib');

interface Session {
  abort: AbortController;
  channel?: ConfirmChannel;
  consumerTag?: string;
}

interface Subscription {
  destination: string;
  group: string;
  queue: string;
  handler: EventHandler;
  observer?: DeliveryObserver;
  /** Serialises deliveries across channel sessions, so a redelivery never overtakes a handler still running. */
  chain: Promise<void>;
  session?: Session;
  consuming: boolean;
  restarts: number;
  restartTimer?: NodeJS.Timeout;
  paused?: Pause;
  lastError?: string;
}

const noop = (): void => {};

/** Publish time in milliseconds: AMQP's own timestamp property counts whole seconds. */
const PUBLISHED_AT_HEADER = 'x-published-at-ms';

function publishedAtOf(message: ConsumeMessage): number | undefined {
  const header: unknown = message.properties.headers?.[PUBLISHED_AT_HEADER];
  if (typeof header === 'number' && Number.isFinite(header)) return header;
  const seconds: unknown = message.properties.timestamp;
  return typeof seconds === 'number' ? seconds * 1000 : undefined;
}

/** Resolves or rejects with the promise, or rejects with BusUnavailableError once the deadline passes. */
function beforeDeadline<T>(promise: Promise<T>, deadline: number, what: string): Promise<T> {
  return withTimeout(
    promise,
    deadline - Date.now(),
    () => new BusUnavailableError(`Message broker unavailable: ${what}`),
  );
}

function confirmed(send: (callback: (err: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    try {
      send((err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()));
    } catch (err) {
      // A closed channel throws synchronously.
      reject(err);
    }
  });
}

function decodeBody(content: Buffer): unknown {
  try {
    return JSON.parse(content.toString('utf8'));
  } catch (err) {
    throw new EventRejectedError(`Malformed message body, not JSON: ${errorMessage(err)}`);
  }
}

/** The message's string-valued headers (AMQP long strings may arrive as bytes). */
function stringHeaders(headers: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (typeof value === 'string') out[name] = value;
    else if (Buffer.isBuffer(value)) out[name] = value.toString('utf8');
  }
  return out;
}

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
  const policy = retryPolicyOf(config);
  const subscriptions = new Map<string, Subscription>();
  const publishing = new Set<Promise<void>>();
  const connectionWaiters = new Set<() => void>();
  const stop = new AbortController();

  let model: ChannelModel | undefined;
  let publisher: Promise<ConfirmChannel> | undefined;
  /** Destinations whose topology was declared on the current connection. */
  let declared = new Map<string, Promise<void>>();
  let lastError: string | undefined;
  let reconnecting = false;
  let closing: Promise<void> | undefined;

  const { connectOptions, socketOptions } = brokerConnection(rabbit);

  async function open(): Promise<void> {
    const connection = await amqp().connect(connectOptions, socketOptions);
    connection.on('error', (err: Error) => log.warn({ err }, 'broker connection error'));
    connection.on('blocked', (reason: string) => log.warn({ reason }, 'broker blocked the connection'));
    connection.on('unblocked', () => log.info('broker unblocked the connection'));
    connection.on('close', (err?: Error) => connectionLost(connection, err));
    if (stop.signal.aborted) {
      await connection.close().catch(noop);
      return;
    }
    model = connection;
    publisher = undefined;
    declared = new Map();
    lastError = undefined;
    log.info('connected to the message broker');
    for (const notify of [...connectionWaiters]) notify();
    for (const subscription of subscriptions.values()) void startConsumer(subscription);
  }

  function connectionLost(connection: ChannelModel, err?: Error): void {
    if (connection !== model) return;
    model = undefined;
    publisher = undefined;
    for (const subscription of subscriptions.values()) {
      // The next connection starts every consumer.
      clearTimeout(subscription.restartTimer);
      subscription.restartTimer = undefined;
      endSession(subscription, subscription.session);
    }
    if (stop.signal.aborted) return;
    lastError = err ? errorMessage(err) : 'connection closed by the broker';
    log.error({ err }, 'lost the connection to the message broker; reconnecting');
    void reconnect();
  }

  async function reconnect(): Promise<void> {
    if (reconnecting) return;
    reconnecting = true;
    const policy = { initialMs: rabbit.reconnectInitialMs, maxMs: rabbit.reconnectMaxMs };
    let retry = 0;
    let delay = backoffDelay(retry, policy);
    try {
      while (await wait(delay, stop.signal)) {
        try {
          await open();
          return;
        } catch (err) {
          lastError = errorMessage(err);
          log.warn({ err, retryInMs: delay }, 'reconnect to the message broker failed');
          retry += 1;
          delay = backoffDelay(retry, policy);
        }
      }
    } finally {
      reconnecting = false;
    }
  }

  function waitForConnection(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        connectionWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      connectionWaiters.add(done);
    });
  }

  async function declareGroupQueue(channel: Channel, destination: string, group: string): Promise<string> {
    const queue = queueName(destination, group);
    await channel.assertQueue(queue, {
      durable: true,
      // Replicas of a consumer share its group's queue; one active consumer at a time (the others stand
      // by and take over if it goes) keeps each productId's events in publish order.
      ...(group === AUDIT_GROUP
        ? { maxLength: config.auditMaxLength }
        : { arguments: { 'x-single-active-consumer': true } }),
    });
    await channel.bindQueue(queue, destination, '#');
    return queue;
  }

  /** The exchange, the audit queue and the required groups' queues, so nothing published is lost before its consumer starts. */
  async function declareDestination(channel: Channel, destination: string): Promise<void> {
    await channel.assertExchange(destination, 'topic', { durable: true });
    const groups = new Set([AUDIT_GROUP, ...(config.requiredGroups[destination] ?? [])]);
    for (const group of groups) await declareGroupQueue(channel, destination, group);
  }

  function openPublisher(connection: ChannelModel): Promise<ConfirmChannel> {
    const opening = connection.createConfirmChannel().then((channel) => {
      channel.on('error', (err: Error) => log.warn({ err }, 'publisher channel error'));
      channel.on('close', () => {
        if (publisher === opening) publisher = undefined;
      });
      return channel;
    });
    opening.catch(() => {
      if (publisher === opening) publisher = undefined;
    });
    return opening;
  }

  async function publisherChannel(deadline: number): Promise<ConfirmChannel> {
    for (;;) {
      if (closing) throw new BusUnavailableError('Message bus is closed');
      if (model) {
        publisher ??= openPublisher(model);
        return await publisher;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new BusUnavailableError(`Message broker unavailable: ${lastError ?? 'not connected'}`);
      await waitForConnection(remaining);
    }
  }

  function ensureDeclared(channel: ConfirmChannel, destination: string): Promise<void> {
    let declaring = declared.get(destination);
    if (!declaring) {
      const declarations = declared;
      const attempt = declareDestination(channel, destination);
      declaring = attempt;
      declarations.set(destination, attempt);
      attempt.catch(() => {
        if (declarations.get(destination) === attempt) declarations.delete(destination);
      });
    }
    return declaring;
  }

  async function send(
    messages: ReadonlyArray<{ destination: string; content: Buffer; headers?: Readonly<Record<string, string>> }>,
    deadline: number,
  ): Promise<void> {
    const channel = await publisherChannel(deadline);
    const publishedAtMs = Date.now();
    for (const destination of new Set(messages.map((message) => message.destination))) {
      await ensureDeclared(channel, destination);
    }
    await Promise.all(
      messages.map(({ destination, content, headers }) =>
        confirmed((callback) =>
          channel.publish(
            destination,
            destination,
            content,
            {
              persistent: true,
              contentType: 'application/json',
              messageId: randomUUID(),
              timestamp: Math.floor(publishedAtMs / 1000),
              headers: { ...headers, [PUBLISHED_AT_HEADER]: publishedAtMs },
            },
            callback,
          ),
        ),
      ),
    );
  }

  async function publish(messages: ReadonlyArray<OutgoingMessage>): Promise<void> {
    if (closing) throw new BusUnavailableError('Message bus is closed');
    if (messages.length === 0) return;
    const deadline = Date.now() + rabbit.confirmTimeoutMs;
    const encoded = messages.map(({ destination, payload, headers }) => {
      const json = JSON.stringify(payload);
      if (json === undefined) throw new TypeError(`Payload for ${destination} cannot be serialised to JSON`);
      return { destination, content: Buffer.from(json), ...(headers ? { headers } : {}) };
    });
    const attempt = beforeDeadline(
      send(encoded, deadline),
      deadline,
      `no confirmation within ${rabbit.confirmTimeoutMs} ms`,
    );
    // close() waits for these, at most until their deadline.
    const tracked = attempt.then(noop, noop);
    publishing.add(tracked);
    void tracked.then(() => publishing.delete(tracked));
    try {
      await attempt;
    } catch (err) {
      if (err instanceof BusUnavailableError) throw err;
      throw new BusUnavailableError(`Message broker unavailable: ${errorMessage(err)}`, { cause: err });
    }
  }

  function endSession(subscription: Subscription, session: Session | undefined): void {
    if (!session) return;
    session.abort.abort();
    if (subscription.session === session) {
      subscription.session = undefined;
      subscription.consuming = false;
    }
  }

  function scheduleRestart(subscription: Subscription): void {
    if (stop.signal.aborted || subscription.restartTimer) return;
    const delay = backoffDelay(subscription.restarts, {
      initialMs: rabbit.reconnectInitialMs,
      maxMs: rabbit.reconnectMaxMs,
    });
    subscription.restarts += 1;
    log.info({ queue: subscription.queue, retryInMs: delay }, 'restarting consumer');
    subscription.restartTimer = setTimeout(() => {
      subscription.restartTimer = undefined;
      void startConsumer(subscription);
    }, delay);
  }

  /** Opens a channel for one subscription and consumes its queue; never rejects, a failure schedules a restart. */
  async function startConsumer(subscription: Subscription): Promise<void> {
    const connection = model;
    if (!connection || stop.signal.aborted || subscription.session) return;
    const session: Session = { abort: new AbortController() };
    subscription.session = session;
    const restartUnlessGone = (): void => {
      endSession(subscription, session);
      if (!stop.signal.aborted && model === connection) scheduleRestart(subscription);
    };
    try {
      const channel = await connection.createConfirmChannel();
      session.channel = channel;
      channel.on('error', (err: Error) => {
        subscription.lastError = errorMessage(err);
        log.warn({ err, queue: subscription.queue }, 'consumer channel error');
      });
      channel.on('close', restartUnlessGone);
      if (session.abort.signal.aborted) throw new Error('session ended while opening its channel');
      // One unacknowledged message at a time keeps a group's events in publish order.
      await channel.prefetch(1);
      await declareDestination(channel, subscription.destination);
      await declareGroupQueue(channel, subscription.destination, subscription.group);
      await channel.assertQueue(deadLetterQueueName(subscription.destination, subscription.group), { durable: true });
      const { consumerTag } = await channel.consume(
        subscription.queue,
        (message) => received(subscription, session, message),
        {
          noAck: false,
        },
      );
      session.consumerTag = consumerTag;
      subscription.consuming = true;
      subscription.restarts = 0;
      subscription.lastError = undefined;
      log.info({ queue: subscription.queue }, 'consumer started');
    } catch (err) {
      subscription.lastError = errorMessage(err);
      log.warn({ err, queue: subscription.queue }, 'could not start consumer');
      // Its close listener schedules the restart; without a channel, schedule it here.
      if (session.channel) await session.channel.close().catch(noop);
      else restartUnlessGone();
    }
  }

  function received(subscription: Subscription, session: Session, message: ConsumeMessage | null): void {
    if (message === null) {
      // The broker cancelled the consumer (its queue was deleted): re-declare and consume again.
      log.warn({ queue: subscription.queue }, 'consumer cancelled by the broker');
      void session.channel?.close().catch(noop);
      return;
    }
    subscription.chain = subscription.chain
      .then(() => handleMessage(subscription, session, message))
      .catch((err: unknown) => {
        log.error({ err, queue: subscription.queue }, 'unexpected failure while handling a message');
      });
  }

  async function handleMessage(subscription: Subscription, session: Session, message: ConsumeMessage): Promise<void> {
    const channel = session.channel;
    if (!channel || session.abort.signal.aborted) return; // the broker redelivers it
    const messageLog = log.child({
      queue: subscription.queue,
      messageId: message.properties.messageId,
      deliveryTag: message.fields.deliveryTag,
      redelivered: message.fields.redelivered,
    });
    const outcome = await deliver({
      decode: () => decodeBody(message.content),
      headers: stringHeaders(message.properties.headers),
      publishedAtMs: publishedAtOf(message),
      observer: subscription.observer,
      handler: subscription.handler,
      policy,
      signal: session.abort.signal,
      log: messageLog,
      onInfrastructureFailure: (error, retries) => {
        subscription.paused = notePause(subscription.paused, error, retries);
      },
    });
    subscription.paused = undefined;
    if (outcome.kind === 'stopped') return;
    if (outcome.kind === 'dead-letter') {
      const deadLetterQueue = deadLetterQueueName(subscription.destination, subscription.group);
      try {
        await channel.assertQueue(deadLetterQueue, { durable: true });
        const headers = {
          ...(message.properties.headers ?? {}),
          'x-exception-message': outcome.reason.slice(0, 4000),
          'x-original-exchange': message.fields.exchange,
          'x-original-routingKey': message.fields.routingKey,
          'x-attempts': outcome.attempts,
        };
        const sent = confirmed((callback) =>
          channel.sendToQueue(
            deadLetterQueue,
            message.content,
            {
              persistent: true,
              contentType: message.properties.contentType ?? 'application/json',
              messageId: message.properties.messageId,
              headers,
            },
            callback,
          ),
        );
        await beforeDeadline(sent, Date.now() + rabbit.confirmTimeoutMs, 'dead-letter publish not confirmed');
        messageLog.warn(
          { deadLetterQueue, reason: outcome.reason, attempts: outcome.attempts },
          'event moved to the dead-letter queue',
        );
      } catch (err) {
        // Unacknowledged and stuck behind prefetch 1: closing the channel hands it back to the broker.
        messageLog.error({ err, deadLetterQueue }, 'dead-letter publish failed; the event will be redelivered');
        await channel.close().catch(noop);
        return;
      }
    }
    try {
      channel.ack(message);
    } catch (err) {
      messageLog.warn({ err }, 'ack failed (channel closed); the event will be redelivered');
    }
  }

  async function subscribe(
    destination: string,
    group: string,
    handler: EventHandler,
    observer?: DeliveryObserver,
  ): Promise<void> {
    if (closing) throw new BusUnavailableError('Message bus is closed');
    const queue = queueName(destination, group);
    if (subscriptions.has(queue)) throw new Error(`Already subscribed to ${queue}`);
    const subscription: Subscription = {
      destination,
      group,
      queue,
      handler,
      observer,
      chain: Promise.resolve(),
      consuming: false,
      restarts: 0,
    };
    subscriptions.set(queue, subscription);
    // While disconnected the subscription starts with the next connection.
    await startConsumer(subscription);
  }

  function health(): BusHealth {
    const consumers: Record<string, unknown> = {};
    const stuck: Array<{ name: string; error: string }> = [];
    for (const subscription of subscriptions.values()) {
      const pause = subscription.paused && pauseHealth(subscription.paused, config.stuckAfterMs);
      if (pause?.stuck && subscription.paused)
        stuck.push({ name: subscription.queue, error: subscription.paused.error });
      const state = subscription.consuming ? 'consuming' : 'stopped';
      consumers[subscription.queue] = {
        state,
        ...pause?.details,
        ...(!pause && state === 'stopped' && subscription.lastError ? { error: subscription.lastError } : {}),
      };
    }
    const up = model !== undefined && !closing;
    return withStuckConsumers(
      up,
      { broker, connected: model !== undefined, ...(up || !lastError ? {} : { error: lastError }), consumers },
      closing ? [] : stuck,
    );
  }

  async function shutDown(): Promise<void> {
    const all = [...subscriptions.values()];
    // Stop taking new messages first.
    await Promise.all(
      all.map(async ({ session }) => {
        if (session?.channel && session.consumerTag) await session.channel.cancel(session.consumerTag).catch(noop);
      }),
    );
    stop.abort();
    for (const subscription of all) {
      clearTimeout(subscription.restartTimer);
      subscription.session?.abort.abort();
    }
    for (const notify of [...connectionWaiters]) notify();
    await Promise.all([...all.map((subscription) => subscription.chain), ...publishing]);
    const connection = model;
    model = undefined;
    // A channel's close handshake comes after its acks, which a connection close may overtake.
    await Promise.all(all.map(({ session }) => session?.channel?.close().catch(noop)));
    // Closing the connection hands every unacknowledged message back to the broker.
    if (connection) await connection.close().catch(noop);
    log.info('message bus closed');
  }

  try {
    await open();
  } catch (err) {
    throw new BusUnavailableError(`Message broker unavailable at ${broker}: ${errorMessage(err)}`, { cause: err });
  }

  return {
    publish,
    subscribe,
    health,
    close(): Promise<void> {
      closing ??= shutDown();
      return closing;
    },
  };
}

/** amqplib's connection and socket options from configuration: amqps with TLS options when tls is on. */
export function brokerConnection(rabbit: RabbitConfig): {
  connectOptions: Options.Connect;
  socketOptions: Record<string, unknown>;
} {
  const tls = tlsOptions(rabbit.tls, rabbit.host, 'messaging.rabbitmq.tls');
  return {
    connectOptions: {
      protocol: tls !== undefined ? 'amqps' : 'amqp',
      hostname: rabbit.host,
      port: rabbit.port,
      username: rabbit.username,
      // Without a password amqplib would fall back to guest's; never default a secret.
      password: rabbit.password ?? '',
      vhost: rabbit.vhost,
      heartbeat: rabbit.heartbeatSeconds,
    },
    socketOptions: { timeout: rabbit.confirmTimeoutMs, ...tls },
  };
}
