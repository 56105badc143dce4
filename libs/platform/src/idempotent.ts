import { isDeepStrictEqual } from 'node:util';
import { EventRejectedError } from './messaging/index.ts';
import { isUniqueViolation } from './storage/index.ts';

/**
 * Stores an entity created by an event exactly once. A replay of the same entity changes nothing; a
 * different entity under the same key is the event's fault and is rejected (it will be dead-lettered).
 */
export async function insertOnce<T>(
  entity: T,
  store: {
    find(): Promise<T | undefined>;
    insert(): Promise<void>;
    duplicateMessage: string;
  },
): Promise<'inserted' | 'unchanged'> {
  const compare = async () => {
    const existing = await store.find();
    if (existing === undefined) return undefined;
    if (isDeepStrictEqual(existing, entity)) return 'unchanged' as const;
    throw new EventRejectedError(store.duplicateMessage);
  };
  const before = await compare();
  if (before) return before;
  try {
    await store.insert();
    return 'inserted';
  } catch (error) {
    // Another consumer instance won the race: decide again against what it stored.
    if (isUniqueViolation(error) && (await compare())) return 'unchanged';
    throw error;
  }
}
