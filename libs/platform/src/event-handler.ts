import type { Static, TSchema } from '@landscape/vendor/typebox';
import { parseEvent } from '@landscape/api';
import { errorMessage } from './errors.ts';
import { EventRejectedError, type EventHandler } from './messaging/index.ts';
import { isDataError } from './storage/index.ts';

/**
 * A bus handler that rejects an invalid event (so it is retried, then dead-lettered) and applies a valid one.
 * A value the database refuses is the event's fault too: the same row would be refused on every attempt.
 */
export function eventHandler<S extends TSchema>(
  schema: S,
  apply: (event: Static<S>) => Promise<unknown>,
): EventHandler {
  return async (payload) => {
    const parsed = parseEvent(schema, payload);
    if ('reason' in parsed) throw new EventRejectedError(parsed.reason);
    try {
      await apply(parsed.event);
    } catch (error) {
      if (isDataError(error))
        throw new EventRejectedError(`Refused by the database: ${errorMessage(error)}`, { cause: error });
      throw error;
    }
  };
}
