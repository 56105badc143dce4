import type { MessagePort } from 'node:worker_threads';
import type { BusHealth, EventBus, OutgoingMessage } from './bus.ts';
import { BusUnavailableError } from './errors.ts';

/**
 * One bus shared by two threads of a process: the thread whose services consume events owns the bus
 * and serves it on a MessagePort (serveBus); the other thread publishes through that port
 * (connectBus). The all-in-one process runs its core services on a second thread this way, with the
 * same in-process bus and the same guarantee: publish resolves once the bus has accepted every message.
 */

type Request = { type: 'publish'; id: number; messages: ReadonlyArray<OutgoingMessage> };
type Answer =
  | { type: 'published'; id: number }
  | { type: 'refused'; id: number; unavailable: boolean; message: string }
  | { type: 'health'; health: BusHealth };

/** How often the owning thread sends its bus's health: what the other thread reports is at most this old. */
export const HEALTH_INTERVAL_MS = 250;

/** Serves bus on port until the port closes. The bus stays the caller's to close. */
export function serveBus(bus: EventBus, port: MessagePort): void {
  const send = (answer: Answer) => port.postMessage(answer);
  const sendHealth = () => send({ type: 'health', health: bus.health() });
  const timer = setInterval(sendHealth, HEALTH_INTERVAL_MS).unref();
  port.on('close', () => clearInterval(timer));
  port.on('message', (request: Request) => {
    bus.publish(request.messages).then(
      () => send({ type: 'published', id: request.id }),
      (error: unknown) =>
        send({
          type: 'refused',
          id: request.id,
          unavailable: error instanceof BusUnavailableError,
          message: error instanceof Error ? error.message : String(error),
        }),
    );
  });
  sendHealth();
}

/** The publishing side of a bus another thread serves on port. Consumers belong with the bus itself. */
export function connectBus(port: MessagePort): EventBus {
  const waiting = new Map<number, { resolve(): void; reject(error: Error): void }>();
  let nextId = 0;
  let health: BusHealth = { status: 'DOWN', details: { kind: 'in-process', error: 'no word from the bus thread yet' } };
  let closed: string | undefined;

  const end = (reason: string) => {
    closed ??= reason;
    for (const pending of waiting.values()) pending.reject(new BusUnavailableError(closed));
    waiting.clear();
  };
  port.on('message', (answer: Answer) => {
    if (answer.type === 'health') {
      health = answer.health;
      return;
    }
    const pending = waiting.get(answer.id);
    waiting.delete(answer.id);
    if (answer.type === 'published') pending?.resolve();
    else pending?.reject(answer.unavailable ? new BusUnavailableError(answer.message) : new Error(answer.message));
  });
  // The owning thread stopped: nothing sent from now on could be accepted.
  port.on('close', () => end('Message bus is closed: its thread has stopped'));
  // Only a publish waiting for its answer keeps the thread alive.
  port.unref();

  return {
    publish(messages) {
      if (closed) return Promise.reject(new BusUnavailableError(closed));
      const id = nextId++;
      const answered = new Promise<void>((resolve, reject) => waiting.set(id, { resolve, reject }));
      try {
        // Copies every payload first, like the bus itself: one that cannot be copied sends nothing.
        port.postMessage({ type: 'publish', id, messages } satisfies Request);
      } catch (error) {
        waiting.delete(id);
        return Promise.reject(error);
      }
      port.ref();
      return answered.finally(() => {
        if (waiting.size === 0) port.unref();
      });
    },
    subscribe() {
      return Promise.reject(new Error('Consumers subscribe on the thread that owns the bus'));
    },
    // Once closed, DOWN with the first reason, whatever the owning thread last said.
    health: () => (closed ? { status: 'DOWN', details: { kind: 'in-process', error: closed } } : health),
    close() {
      end('Message bus is closed');
      port.close();
      return Promise.resolve();
    },
  };
}
