import { setTimeout as sleep } from 'node:timers/promises';
import { context, propagation, ROOT_CONTEXT } from '@landscape/vendor/@opentelemetry/api';
import type { Logger } from 'pino';
import type { BusHealth, EventHandler } from './bus.ts';
import type { MessagingConfig } from './config.ts';
import { EventRejectedError } from './errors.ts';
import { backoffDelay } from '../timing.ts';

export interface RetryPolicy {
  maxAttempts: number;
  initialIntervalMs: number;
  multiplier: number;
  maxIntervalMs: number;
  infraRetryMaxMs: number;
}

export function retryPolicyOf(config: MessagingConfig): RetryPolicy {
  return { ...config.retry, infraRetryMaxMs: config.infraRetryMaxMs };
}

/** Why and since when a consumer has been held up by failing infrastructure. */
export interface Pause {
  error: string;
  since: string;
  sinceMs: number;
  retries: number;
}

/** The pause after one more infrastructure failure; it dates from the first. */
export function notePause(previous: Pause | undefined, error: Error, retries: number, now = Date.now()): Pause {
  return {
    error: error.message,
    since: previous?.since ?? new Date(now).toISOString(),
    sinceMs: previous?.sinceMs ?? now,
    retries,
  };
}

/** What health shows of one consumer's pause; stuck once it has lasted stuckAfterMs. */
export function pauseHealth(
  pause: Pause,
  stuckAfterMs: number,
  now = Date.now(),
): { stuck: boolean; details: Record<string, unknown> } {
  const pausedForMs = Math.max(0, now - pause.sinceMs);
  const stuck = pausedForMs >= stuckAfterMs;
  return {
    stuck,
    details: {
      state: stuck ? 'stuck' : 'paused',
      error: pause.error,
      since: pause.since,
      retries: pause.retries,
      pausedForMs,
    },
  };
}

/** The bus's status and details given its stuck consumers: any stuck one takes the service out of readiness. */
export function withStuckConsumers(
  up: boolean,
  details: Record<string, unknown>,
  stuck: ReadonlyArray<{ name: string; error: string }>,
): BusHealth {
  if (stuck.length === 0) return { status: up ? 'UP' : 'DOWN', details };
  return {
    status: 'DOWN',
    details: {
      ...details,
      stuck: stuck.map((s) => s.name),
      error: [details['error'], ...stuck.map((s) => `consumer ${s.name} is held up by the infrastructure: ${s.error}`)]
        .filter(Boolean)
        .join('; '),
    },
  };
}

export type DeliveryOutcome =
  /** The handler succeeded: acknowledge. */
  | { kind: 'handled'; attempts: number }
  /** The event was rejected on every attempt: dead-letter it, then acknowledge. */
  | { kind: 'dead-letter'; attempts: number; reason: string }
  /** Stopped before success (closing, or the channel went away): leave it unacknowledged. */
  | { kind: 'stopped' };

/** Resolves true after ms, false as soon as the signal aborts. */
export type Wait = (ms: number, signal: AbortSignal) => Promise<boolean>;

export const wait: Wait = async (ms, signal) => {
  if (signal.aborted) return false;
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
};

/** What a consumer's metrics learn of each delivery; the bus knows nothing of how they are kept. */
export interface DeliveryObserver {
  /** Before the first attempt: how long the event waited since it was published, when the bus knows. */
  started(lagSeconds: number | undefined): void;
  retried(reason: 'rejected' | 'infrastructure'): void;
  /** Once per delivery, with the time from the first attempt to the outcome. */
  finished(outcome: DeliveryOutcome, seconds: number): void;
}

export interface Delivery {
  /** Called before every attempt, so no attempt sees an object a previous attempt mutated. Throws EventRejectedError for an unreadable body. */
  decode: () => unknown;
  handler: EventHandler;
  /** The message's headers, handed to the handler beside the payload. */
  headers?: Readonly<Record<string, string>>;
  policy: RetryPolicy;
  signal: AbortSignal;
  log: Logger;
  /** Called each time the infrastructure fails; the caller reports the consumer as paused until deliver returns. */
  onInfrastructureFailure?: (error: Error, retries: number) => void;
  wait?: Wait;
  /** When the event was published (epoch ms), for the lag its observer records. */
  publishedAtMs?: number;
  observer?: DeliveryObserver;
}

/**
 * The one place that decides what happens to a delivered event, for every bus:
 * an event at fault is attempted maxAttempts times and then dead-lettered; any other failure
 * is the infrastructure's, so the same event is retried with backoff until it succeeds or we stop.
 */
export function deliver(delivery: Delivery): Promise<DeliveryOutcome> {
  // In the publisher's trace context, so the lines logged about this event carry its trace_id.
  return context.with(propagation.extract(ROOT_CONTEXT, delivery.headers ?? {}), observed, undefined, delivery);
}

async function observed(delivery: Delivery): Promise<DeliveryOutcome> {
  const { observer, publishedAtMs } = delivery;
  const startedAt = performance.now();
  observer?.started(publishedAtMs === undefined ? undefined : Math.max(0, Date.now() - publishedAtMs) / 1000);
  const outcome = await decide(delivery);
  observer?.finished(outcome, (performance.now() - startedAt) / 1000);
  return outcome;
}

async function decide(delivery: Delivery): Promise<DeliveryOutcome> {
  const { policy, signal, log, observer } = delivery;
  const pause = delivery.wait ?? wait;
  const rejectionBackoff = {
    initialMs: policy.initialIntervalMs,
    maxMs: policy.maxIntervalMs,
    multiplier: policy.multiplier,
  };
  const infraBackoff = { ...rejectionBackoff, maxMs: policy.infraRetryMaxMs };
  let attempts = 0;
  let infraRetries = 0;

  while (!signal.aborted) {
    attempts += 1;
    try {
      await delivery.handler(delivery.decode(), { headers: delivery.headers ?? {} });
      if (infraRetries > 0) log.info({ infraRetries }, 'infrastructure is back; event applied, consumer resumes');
      return { kind: 'handled', attempts };
    } catch (thrown) {
      const error = thrown instanceof Error ? thrown : new Error(String(thrown));
      if (error instanceof EventRejectedError) {
        if (attempts >= policy.maxAttempts) {
          log.warn({ attempts, reason: error.message }, 'event rejected on the last attempt; dead-lettering it');
          return { kind: 'dead-letter', attempts, reason: error.message };
        }
        const rejectionDelay = backoffDelay(attempts - 1, rejectionBackoff);
        log.warn(
          { attempt: attempts, maxAttempts: policy.maxAttempts, retryInMs: rejectionDelay, reason: error.message },
          'event rejected; retrying',
        );
        observer?.retried('rejected');
        if (!(await pause(rejectionDelay, signal))) break;
      } else {
        // Not the event's fault: the attempt does not count against it.
        attempts -= 1;
        infraRetries += 1;
        const infraDelay = backoffDelay(infraRetries - 1, infraBackoff);
        log.error(
          { err: error, retries: infraRetries, retryInMs: infraDelay },
          'handler failed outside the event (infrastructure); consumer paused, retrying the same event',
        );
        delivery.onInfrastructureFailure?.(error, infraRetries);
        observer?.retried('infrastructure');
        if (!(await pause(infraDelay, signal))) break;
      }
    }
  }
  log.info('stopped before the event was applied; it stays unacknowledged for redelivery');
  return { kind: 'stopped' };
}
