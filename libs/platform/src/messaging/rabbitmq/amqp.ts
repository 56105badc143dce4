import { createRequire } from 'node:module';
import { BusUnavailableError } from '../errors.ts';
import { withTimeout } from '../../timing.ts';

// Loaded on the first connection: a process on the in-process bus never holds the AMQP client.
const require = createRequire(import.meta.url);
export const amqp = (): typeof import('amqplib') => require('amqplib') as typeof import('amqplib');

export const noop = (): void => {};

/** Resolves or rejects with the promise, or rejects with BusUnavailableError once the deadline passes. */
export function beforeDeadline<T>(promise: Promise<T>, deadline: number, what: string): Promise<T> {
  return withTimeout(
    promise,
    deadline - Date.now(),
    () => new BusUnavailableError(`Message broker unavailable: ${what}`),
  );
}

/** A publish on a confirm channel as a promise that settles with the broker's confirmation. */
export function confirmed(send: (callback: (err: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    try {
      send((err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()));
    } catch (err) {
      // A closed channel throws synchronously.
      reject(err);
    }
  });
}
