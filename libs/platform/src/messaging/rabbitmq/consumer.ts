import type { ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { Logger } from 'pino';
import { deadLetterQueueName, queueName, type EventHandler } from '../bus.ts';
import { deliver, notePause, pauseHealth, type DeliveryObserver, type Pause, type RetryPolicy } from '../delivery.ts';
import { EventRejectedError } from '../errors.ts';
import { errorMessage } from '../../errors.ts';
import { backoffDelay, type BackoffPolicy } from '../../timing.ts';
import { beforeDeadline, confirmed, noop } from './amqp.ts';
import type { Connection } from './connection.ts';
import { PUBLISHED_AT_HEADER } from './publisher.ts';
import { declareSubscription, type TopologyConfig } from './topology.ts';

/** One channel consuming the subscription's queue on one connection; aborted when either goes. */
interface Session {
  model: ChannelModel;
  abort: AbortController;
  channel?: ConfirmChannel;
  consumerTag?: string;
}

/**
 * `idle` waits for a connection, `starting` opens a channel and declares the topology, `consuming` takes
 * deliveries; a failed or closed channel goes through `restarting` (a backoff) while the connection stays.
 */
type ConsumerState =
  | { kind: 'idle' }
  | { kind: 'starting'; session: Session }
  | { kind: 'consuming'; session: Session }
  | { kind: 'restarting'; timer: NodeJS.Timeout };

export interface Subscription {
  destination: string;
  group: string;
  handler: EventHandler;
  observer?: DeliveryObserver;
}

export interface ConsumerDeps {
  connection: Connection;
  topology: TopologyConfig;
  policy: RetryPolicy;
  restartBackoff: BackoffPolicy;
  confirmTimeoutMs: number;
  stuckAfterMs: number;
  log: Logger;
}

export interface ConsumerHealth {
  details: Record<string, unknown>;
  stuck?: { name: string; error: string };
}

export interface Consumer {
  readonly queue: string;
  /** Starts consuming on the open connection; never rejects, a failure schedules a restart. */
  start(): Promise<void>;
  /** The connection is gone: the session ends, the next connection starts it again. */
  connectionLost(): void;
  health(): ConsumerHealth;
  /** Closing, in three steps: stop taking messages, end the session and wait for the handler, close the channel. */
  cancel(): Promise<void>;
  halt(): Promise<void>;
  closeChannel(): Promise<void>;
}

export function createConsumer(subscription: Subscription, deps: ConsumerDeps): Consumer {
  const { destination, group, handler, observer } = subscription;
  const { connection, log } = deps;
  const queue = queueName(destination, group);
  const deadLetterQueue = deadLetterQueueName(destination, group);
  let state: ConsumerState = { kind: 'idle' };
  /** Serialises deliveries across sessions, so a redelivery never overtakes a handler still running. */
  let chain: Promise<void> = Promise.resolve();
  let restarts = 0;
  let lastError: string | undefined;
  /** Set while the handler fails on infrastructure and delivery keeps retrying. */
  let paused: Pause | undefined;

  const sessionOf = (): Session | undefined =>
    state.kind === 'starting' || state.kind === 'consuming' ? state.session : undefined;
  const closing = (): boolean => connection.state().kind === 'closing';

  function endSession(session: Session): void {
    session.abort.abort();
    if (sessionOf() === session) state = { kind: 'idle' };
  }

  function restartUnlessGone(session: Session): void {
    endSession(session);
    if (!closing() && connection.current() === session.model) scheduleRestart();
  }

  function scheduleRestart(): void {
    if (closing() || state.kind !== 'idle') return;
    const delay = backoffDelay(restarts, deps.restartBackoff);
    restarts += 1;
    log.info({ queue, retryInMs: delay }, 'restarting consumer');
    state = {
      kind: 'restarting',
      timer: setTimeout(() => {
        state = { kind: 'idle' };
        void start();
      }, delay),
    };
  }

  async function start(): Promise<void> {
    const model = connection.current();
    if (!model || closing() || state.kind === 'starting' || state.kind === 'consuming') return;
    if (state.kind === 'restarting') clearTimeout(state.timer);
    const session: Session = { model, abort: new AbortController() };
    state = { kind: 'starting', session };
    try {
      const channel = await model.createConfirmChannel();
      session.channel = channel;
      channel.on('error', (err: Error) => {
        lastError = errorMessage(err);
        log.warn({ err, queue }, 'consumer channel error');
      });
      channel.on('close', () => restartUnlessGone(session));
      if (session.abort.signal.aborted) throw new Error('session ended while opening its channel');
      // One unacknowledged message at a time keeps a group's events in publish order.
      await channel.prefetch(1);
      await declareSubscription(channel, destination, group, deps.topology);
      const { consumerTag } = await channel.consume(queue, (message) => received(session, message), { noAck: false });
      session.consumerTag = consumerTag;
      if (sessionOf() === session) state = { kind: 'consuming', session };
      restarts = 0;
      lastError = undefined;
      log.info({ queue }, 'consumer started');
    } catch (err) {
      lastError = errorMessage(err);
      log.warn({ err, queue }, 'could not start consumer');
      // Its close listener schedules the restart; without a channel, schedule it here.
      if (session.channel) await session.channel.close().catch(noop);
      else restartUnlessGone(session);
    }
  }

  function received(session: Session, message: ConsumeMessage | null): void {
    if (message === null) {
      // The broker cancelled the consumer (its queue was deleted): re-declare and consume again.
      log.warn({ queue }, 'consumer cancelled by the broker');
      void session.channel?.close().catch(noop);
      return;
    }
    chain = chain
      .then(() => handle(session, message))
      .catch((err: unknown) => {
        log.error({ err, queue }, 'unexpected failure while handling a message');
      });
  }

  async function handle(session: Session, message: ConsumeMessage): Promise<void> {
    const channel = session.channel;
    if (!channel || session.abort.signal.aborted) return; // the broker redelivers it
    const messageLog = log.child({
      queue,
      messageId: message.properties.messageId,
      deliveryTag: message.fields.deliveryTag,
      redelivered: message.fields.redelivered,
    });
    const outcome = await deliver({
      decode: () => decodeBody(message.content),
      headers: stringHeaders(message.properties.headers),
      publishedAtMs: publishedAtOf(message),
      observer,
      handler,
      policy: deps.policy,
      signal: session.abort.signal,
      log: messageLog,
      onInfrastructureFailure: (error, retries) => {
        paused = notePause(paused, error, retries);
      },
    });
    paused = undefined;
    if (outcome.kind === 'stopped') return;
    if (outcome.kind === 'dead-letter') {
      try {
        await deadLetter(channel, message, outcome.reason, outcome.attempts);
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

  async function deadLetter(
    channel: ConfirmChannel,
    message: ConsumeMessage,
    reason: string,
    attempts: number,
  ): Promise<void> {
    await channel.assertQueue(deadLetterQueue, { durable: true });
    const headers = {
      ...(message.properties.headers ?? {}),
      'x-exception-message': reason.slice(0, 4000),
      'x-original-exchange': message.fields.exchange,
      'x-original-routingKey': message.fields.routingKey,
      'x-attempts': attempts,
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
    await beforeDeadline(sent, Date.now() + deps.confirmTimeoutMs, 'dead-letter publish not confirmed');
  }

  function health(): ConsumerHealth {
    const pause = paused && pauseHealth(paused, deps.stuckAfterMs);
    const shown = state.kind === 'consuming' ? 'consuming' : 'stopped';
    return {
      details: {
        state: shown,
        ...pause?.details,
        ...(!pause && shown === 'stopped' && lastError ? { error: lastError } : {}),
      },
      ...(pause?.stuck && paused ? { stuck: { name: queue, error: paused.error } } : {}),
    };
  }

  return {
    queue,
    start,
    connectionLost(): void {
      if (state.kind === 'restarting') {
        clearTimeout(state.timer);
        state = { kind: 'idle' };
      }
      const session = sessionOf();
      if (session) endSession(session);
    },
    health,
    async cancel(): Promise<void> {
      const session = sessionOf();
      if (session?.channel && session.consumerTag) await session.channel.cancel(session.consumerTag).catch(noop);
    },
    halt(): Promise<void> {
      if (state.kind === 'restarting') {
        clearTimeout(state.timer);
        state = { kind: 'idle' };
      }
      sessionOf()?.abort.abort();
      return chain;
    },
    async closeChannel(): Promise<void> {
      // A channel's close handshake comes after its acks, which a connection close may overtake.
      await sessionOf()?.channel?.close().catch(noop);
    },
  };
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

function publishedAtOf(message: ConsumeMessage): number | undefined {
  const header: unknown = message.properties.headers?.[PUBLISHED_AT_HEADER];
  if (typeof header === 'number' && Number.isFinite(header)) return header;
  const seconds: unknown = message.properties.timestamp;
  return typeof seconds === 'number' ? seconds * 1000 : undefined;
}
