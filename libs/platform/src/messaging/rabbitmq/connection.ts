import type { ChannelModel, Options } from 'amqplib';
import type { Logger } from 'pino';
import type { RabbitConfig } from '../config.ts';
import { wait } from '../delivery.ts';
import { BusUnavailableError } from '../errors.ts';
import { errorMessage } from '../../errors.ts';
import { backoffDelay } from '../../timing.ts';
import { tlsOptions } from '../../tls.ts';
import { amqp, noop } from './amqp.ts';

/**
 * The one connection to the broker. It leaves `open` only when the broker drops it (to `closed-retrying`,
 * which reconnects with backoff) or when the bus closes (`closing`, which keeps the connection until the
 * consumers' channels are closed, so their last acks get out).
 */
export type ConnectionState =
  | { kind: 'connecting' }
  | { kind: 'open'; model: ChannelModel }
  | { kind: 'closed-retrying'; error: string }
  | { kind: 'closing'; model?: ChannelModel; error?: string };

export interface Connection {
  state(): ConnectionState;
  /** The open connection, if there is one. */
  current(): ChannelModel | undefined;
  /** The open connection, waiting for it until the deadline; rejects with BusUnavailableError. */
  whenOpen(deadline: number): Promise<ChannelModel>;
  /** Heard on every new connection (each replays its topology there) and on every loss. */
  onOpen(listener: () => void): void;
  onLost(listener: () => void): void;
  /** The first connection; rejects if the broker cannot be reached. */
  start(): Promise<void>;
  /** No more reconnects or waiting for one; the connection itself stays until close(). */
  beginClose(): void;
  close(): Promise<void>;
}

export function createConnection(rabbit: RabbitConfig, log: Logger): Connection {
  const { connectOptions, socketOptions } = brokerConnection(rabbit);
  const backoff = { initialMs: rabbit.reconnectInitialMs, maxMs: rabbit.reconnectMaxMs };
  const stop = new AbortController();
  const openListeners: Array<() => void> = [];
  const lostListeners: Array<() => void> = [];
  /** Publishers waiting for a connection; woken when one opens or the bus closes. */
  const waiters = new Set<() => void>();
  let state: ConnectionState = { kind: 'connecting' };

  async function open(): Promise<void> {
    const model = await amqp().connect(connectOptions, socketOptions);
    model.on('error', (err: Error) => log.warn({ err }, 'broker connection error'));
    model.on('blocked', (reason: string) => log.warn({ reason }, 'broker blocked the connection'));
    model.on('unblocked', () => log.info('broker unblocked the connection'));
    model.on('close', (err?: Error) => lost(model, err));
    if (state.kind === 'closing') {
      await model.close().catch(noop);
      return;
    }
    state = { kind: 'open', model };
    log.info('connected to the message broker');
    for (const wake of [...waiters]) wake();
    for (const listener of openListeners) listener();
  }

  function lost(model: ChannelModel, err?: Error): void {
    if (state.kind !== 'open' || state.model !== model) return;
    state = { kind: 'closed-retrying', error: err ? errorMessage(err) : 'connection closed by the broker' };
    for (const listener of lostListeners) listener();
    log.error({ err }, 'lost the connection to the message broker; reconnecting');
    void reconnect();
  }

  /** Runs only from `closed-retrying`, entered once per loss, so there is never more than one loop. */
  async function reconnect(): Promise<void> {
    for (let retry = 0; ; retry += 1) {
      const delay = backoffDelay(retry, backoff);
      if (!(await wait(delay, stop.signal))) return;
      try {
        await open();
        return;
      } catch (err) {
        if (state.kind === 'closed-retrying') state = { kind: 'closed-retrying', error: errorMessage(err) };
        log.warn({ err, retryInMs: delay }, 'reconnect to the message broker failed');
      }
    }
  }

  function nextOpen(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      waiters.add(wake);
    });
  }

  async function whenOpen(deadline: number): Promise<ChannelModel> {
    for (;;) {
      if (state.kind === 'closing') throw new BusUnavailableError('Message bus is closed');
      if (state.kind === 'open') return state.model;
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        const error = state.kind === 'closed-retrying' ? state.error : 'not connected';
        throw new BusUnavailableError(`Message broker unavailable: ${error}`);
      }
      await nextOpen(remaining);
    }
  }

  return {
    state: () => state,
    current: () => (state.kind === 'open' ? state.model : undefined),
    whenOpen,
    onOpen: (listener) => openListeners.push(listener),
    onLost: (listener) => lostListeners.push(listener),
    start: open,
    beginClose(): void {
      if (state.kind === 'closing') return;
      state = {
        kind: 'closing',
        ...(state.kind === 'open' ? { model: state.model } : {}),
        ...(state.kind === 'closed-retrying' ? { error: state.error } : {}),
      };
      stop.abort();
      for (const wake of [...waiters]) wake();
    },
    async close(): Promise<void> {
      if (state.kind !== 'closing') return;
      const { model } = state;
      state = { kind: 'closing', ...(state.error ? { error: state.error } : {}) };
      // Closing the connection hands every unacknowledged message back to the broker.
      if (model) await model.close().catch(noop);
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
