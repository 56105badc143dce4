import type { DeliveryObserver } from './delivery.ts';

/** What travels beside a delivered event's payload: its headers (the publisher's W3C trace context among them). */
export interface Delivered {
  headers: Readonly<Record<string, string>>;
}

export type EventHandler = (payload: unknown, delivered?: Delivered) => Promise<void>;

export interface OutgoingMessage {
  destination: string;
  payload: unknown;
  /** Message headers, string-valued (`traceparent`, `tracestate`). */
  headers?: Readonly<Record<string, string>>;
}

export interface BusHealth {
  status: 'UP' | 'DOWN';
  details: Record<string, unknown>;
}

export interface EventBus {
  /** Resolves only once every message is accepted (confirmed by the broker); rejects with BusUnavailableError otherwise. */
  publish(messages: ReadonlyArray<OutgoingMessage>): Promise<void>;
  /** Handles the messages of one group strictly one at a time, in order; the observer hears of every delivery. */
  subscribe(destination: string, group: string, handler: EventHandler, observer?: DeliveryObserver): Promise<void>;
  /** Connected or not, and which consumers are paused by failing infrastructure. */
  health(): BusHealth;
  /** Stops taking new messages, waits for in-flight handlers, then closes. */
  close(): Promise<void>;
}

export const AUDIT_GROUP = 'auditGroup';

export function queueName(destination: string, group: string): string {
  return `${destination}.${group}`;
}

export function deadLetterQueueName(destination: string, group: string): string {
  return `${destination}.${group}.dlq`;
}
