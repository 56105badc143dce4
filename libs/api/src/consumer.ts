import type { Static, TSchema } from 'typebox';
import { EventRejectedError, type EventHandler } from '@landscape/platform';
import { parseEvent } from './events.ts';

/** A bus handler that rejects an invalid event (so it is retried, then dead-lettered) and applies a valid one. */
export function eventHandler<S extends TSchema>(schema: S, apply: (event: Static<S>) => Promise<unknown>): EventHandler {
  return async (payload) => {
    const parsed = parseEvent(schema, payload);
    if ('reason' in parsed) throw new EventRejectedError(parsed.reason);
    await apply(parsed.event);
  };
}
