import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Logger } from 'pino';
import {
  AUDIT_GROUP,
  queueName,
  type BusHealth,
  type EventBus,
  type EventHandler,
  type OutgoingMessage,
} from './bus.ts';
import type { MessagingConfig } from './config.ts';
import {
  deliver,
  notePause,
  pauseHealth,
  retryPolicyOf,
  withStuckConsumers,
  type DeliveryObserver,
  type Pause,
} from './delivery.ts';
import { BusUnavailableError } from './errors.ts';

export interface DeadLetter {
  payload: unknown;
  reason: string;
}

export interface InProcessBus extends EventBus {
  deadLetters(destination: string, group: string): DeadLetter[];
  audit(destination: string): unknown[];
}

interface Queued {
  payload: unknown;
  headers: Readonly<Record<string, string>>;
  publishedAtMs: number;
}

interface GroupQueue {
  destination: string;
  group: string;
  name: string;
  items: Queued[];
  deadLetters: DeadLetter[];
  handler?: EventHandler;
  observer?: DeliveryObserver;
  pumping?: Promise<void>;
  paused?: Pause;
}

/** The all-in-one mode's bus: the same contract and retry/dead-letter decision as RabbitMQ, in memory. */
export function createInProcessBus(config: MessagingConfig, logger: Logger): InProcessBus {
  const log = logger.child({ component: 'messaging', bus: 'in-process' });
  const policy = retryPolicyOf(config);
  const queues = new Map<string, GroupQueue>();
  const audits = new Map<string, unknown[]>();
  const stop = new AbortController();
  let closing: Promise<void> | undefined;

  function groupQueue(destination: string, group: string): GroupQueue {
    const name = queueName(destination, group);
    let queue = queues.get(name);
    if (!queue) {
      queue = { destination, group, name, items: [], deadLetters: [] };
      queues.set(name, queue);
    }
    return queue;
  }

  // The audit trail is kept by audits; a group queue for it would only grow.
  for (const [destination, groups] of Object.entries(config.requiredGroups)) {
    for (const group of groups) if (group !== AUDIT_GROUP) groupQueue(destination, group);
  }

  function appendBounded<T>(list: T[], item: T): void {
    list.push(item);
    if (list.length > config.auditMaxLength) list.splice(0, list.length - config.auditMaxLength);
  }

  function kick(queue: GroupQueue): void {
    if (!queue.handler || queue.pumping || closing || queue.items.length === 0) return;
    queue.pumping = pump(queue, queue.handler).finally(() => {
      queue.pumping = undefined;
      kick(queue);
    });
  }

  async function pump(queue: GroupQueue, handler: EventHandler): Promise<void> {
    // Never run a handler inside publish().
    await nextTurn();
    while (queue.items.length > 0 && !stop.signal.aborted) {
      const item = queue.items[0] as Queued;
      const outcome = await deliver({
        decode: () => structuredClone(item.payload),
        headers: item.headers,
        publishedAtMs: item.publishedAtMs,
        observer: queue.observer,
        handler,
        policy,
        signal: stop.signal,
        log: log.child({ queue: queue.name }),
        onInfrastructureFailure: (error, retries) => {
          queue.paused = notePause(queue.paused, error, retries);
        },
      });
      queue.paused = undefined;
      if (outcome.kind === 'stopped') return;
      queue.items.shift();
      if (outcome.kind === 'dead-letter') {
        queue.deadLetters.push({ payload: item?.payload, reason: outcome.reason });
        log.warn(
          { queue: queue.name, reason: outcome.reason, attempts: outcome.attempts },
          'event moved to the dead-letter list',
        );
      }
    }
  }

  return {
    async publish(messages: ReadonlyArray<OutgoingMessage>): Promise<void> {
      if (closing) throw new BusUnavailableError('Message bus is closed');
      // Copy everything first so one payload that cannot be copied enqueues nothing.
      const copies = messages.map((message) => ({
        destination: message.destination,
        payload: structuredClone(message.payload),
        headers: { ...message.headers },
      }));
      const publishedAtMs = Date.now();
      for (const { destination, payload, headers } of copies) {
        let audit = audits.get(destination);
        if (!audit) {
          audit = [];
          audits.set(destination, audit);
        }
        appendBounded(audit, payload);
        for (const queue of queues.values()) {
          if (queue.destination !== destination) continue;
          const copy = { payload: structuredClone(payload), headers, publishedAtMs };
          if (queue.group === AUDIT_GROUP) appendBounded(queue.items, copy);
          else queue.items.push(copy);
          kick(queue);
        }
      }
    },

    async subscribe(
      destination: string,
      group: string,
      handler: EventHandler,
      observer?: DeliveryObserver,
    ): Promise<void> {
      if (closing) throw new BusUnavailableError('Message bus is closed');
      const queue = groupQueue(destination, group);
      if (queue.handler) throw new Error(`Already subscribed to ${queue.name}`);
      queue.handler = handler;
      queue.observer = observer;
      log.info({ queue: queue.name, queued: queue.items.length }, 'consumer started');
      kick(queue);
    },

    health(): BusHealth {
      const consumers: Record<string, unknown> = {};
      const stuck: Array<{ name: string; error: string }> = [];
      for (const queue of queues.values()) {
        if (!queue.handler) continue;
        const pause = queue.paused && pauseHealth(queue.paused, config.stuckAfterMs);
        if (pause?.stuck && queue.paused) stuck.push({ name: queue.name, error: queue.paused.error });
        consumers[queue.name] = {
          state: closing ? 'stopped' : 'consuming',
          queued: queue.items.length,
          deadLettered: queue.deadLetters.length,
          ...(closing ? {} : pause?.details),
        };
      }
      return withStuckConsumers(!closing, { kind: 'in-process', consumers }, closing ? [] : stuck);
    },

    close(): Promise<void> {
      closing ??= (async () => {
        stop.abort();
        await Promise.all([...queues.values()].map((queue) => queue.pumping));
        log.info('in-process bus closed');
      })();
      return closing;
    },

    deadLetters(destination: string, group: string): DeadLetter[] {
      const queue = queues.get(queueName(destination, group));
      return structuredClone(queue?.deadLetters ?? []);
    },

    audit(destination: string): unknown[] {
      return structuredClone(audits.get(destination) ?? []);
    },
  };
}
