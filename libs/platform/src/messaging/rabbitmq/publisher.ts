import { randomUUID } from 'node:crypto';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import type { Logger } from 'pino';
import type { OutgoingMessage } from '../bus.ts';
import { BusUnavailableError } from '../errors.ts';
import { errorMessage } from '../../errors.ts';
import { beforeDeadline, confirmed, noop } from './amqp.ts';
import type { Connection } from './connection.ts';
import { declareDestination, type TopologyConfig } from './topology.ts';

/** Publish time in milliseconds: AMQP's own timestamp property counts whole seconds. */
export const PUBLISHED_AT_HEADER = 'x-published-at-ms';

interface Encoded {
  destination: string;
  content: Buffer;
  headers?: Readonly<Record<string, string>>;
}

/** What the publisher keeps per connection: its confirm channel and the destinations declared there. */
interface OnConnection {
  model: ChannelModel;
  channel?: Promise<ConfirmChannel>;
  declared: Map<string, Promise<void>>;
}

export interface Publisher {
  /** Resolves once the broker confirmed every message, within confirmTimeoutMs; rejects with BusUnavailableError. */
  publish(messages: ReadonlyArray<OutgoingMessage>): Promise<void>;
  /** Settles once every publish in flight has (each at most at its deadline). */
  drain(): Promise<void>;
}

export function createPublisher(
  connection: Connection,
  topology: TopologyConfig,
  confirmTimeoutMs: number,
  log: Logger,
): Publisher {
  const inFlight = new Set<Promise<void>>();
  let current: OnConnection | undefined;

  function onConnection(model: ChannelModel): OnConnection {
    if (current?.model !== model) current = { model, declared: new Map() };
    return current;
  }

  function channelOn(slot: OnConnection): Promise<ConfirmChannel> {
    if (slot.channel) return slot.channel;
    const opening = slot.model.createConfirmChannel().then((channel) => {
      channel.on('error', (err: Error) => log.warn({ err }, 'publisher channel error'));
      channel.on('close', () => {
        if (slot.channel === opening) slot.channel = undefined;
      });
      return channel;
    });
    opening.catch(() => {
      if (slot.channel === opening) slot.channel = undefined;
    });
    slot.channel = opening;
    return opening;
  }

  /** Declares a destination once per connection; a failed declaration is tried again by the next publish. */
  function declared(slot: OnConnection, channel: ConfirmChannel, destination: string): Promise<void> {
    const known = slot.declared.get(destination);
    if (known) return known;
    const attempt = declareDestination(channel, destination, topology);
    slot.declared.set(destination, attempt);
    attempt.catch(() => {
      if (slot.declared.get(destination) === attempt) slot.declared.delete(destination);
    });
    return attempt;
  }

  async function send(messages: ReadonlyArray<Encoded>, deadline: number): Promise<void> {
    const slot = onConnection(await connection.whenOpen(deadline));
    const channel = await channelOn(slot);
    const publishedAtMs = Date.now();
    for (const destination of new Set(messages.map((message) => message.destination))) {
      await declared(slot, channel, destination);
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
    if (connection.state().kind === 'closing') throw new BusUnavailableError('Message bus is closed');
    if (messages.length === 0) return;
    const deadline = Date.now() + confirmTimeoutMs;
    const encoded = messages.map(({ destination, payload, headers }): Encoded => {
      const json = JSON.stringify(payload);
      if (json === undefined) throw new TypeError(`Payload for ${destination} cannot be serialised to JSON`);
      return { destination, content: Buffer.from(json), ...(headers ? { headers } : {}) };
    });
    const attempt = beforeDeadline(send(encoded, deadline), deadline, `no confirmation within ${confirmTimeoutMs} ms`);
    const tracked = attempt.then(noop, noop);
    inFlight.add(tracked);
    void tracked.then(() => inFlight.delete(tracked));
    try {
      await attempt;
    } catch (err) {
      if (err instanceof BusUnavailableError) throw err;
      throw new BusUnavailableError(`Message broker unavailable: ${errorMessage(err)}`, { cause: err });
    }
  }

  return {
    publish,
    drain: async () => {
      await Promise.all([...inFlight]);
    },
  };
}
