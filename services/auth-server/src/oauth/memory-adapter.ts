import type { Adapter, AdapterPayload } from '@landscape/vendor/oidc-provider';

interface Entry {
  model: string;
  payload: AdapterPayload;
  expiresAt: number;
}

const SWEEP_EVERY_WRITES = 500;

export interface MemoryStore {
  adapter(model: string): Adapter;
  /** Entries of one kind held now, expired ones not yet swept included. */
  size(model: string): number;
}

/**
 * The `memory` store (auth.store.kind): sign-in sessions, interactions, consents and authorization
 * codes in this process's memory, for a single replica. Access tokens are self-contained JWTs and are
 * not stored, so only browser sign-ins are lost on restart; another replica knows none of them.
 *
 * Anyone can start an interaction without signing in, so each kind holds at most `maxEntriesPerKind`
 * entries: a full kind drops its oldest entry, and a flood of interactions never evicts sessions.
 */
export function createMemoryAdapter(options: { maxEntriesPerKind: number; now?: () => number }): MemoryStore {
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  // Keys of each kind in the order they were last written, oldest first.
  const byModel = new Map<string, Set<string>>();
  const sessionsByUid = new Map<string, string>();
  const keysByGrant = new Map<string, Set<string>>();
  let writes = 0;

  const keysOf = (model: string) => {
    let keys = byModel.get(model);
    if (!keys) {
      keys = new Set();
      byModel.set(model, keys);
    }
    return keys;
  };

  const remove = (key: string) => {
    const entry = entries.get(key);
    entries.delete(key);
    if (!entry) return;
    byModel.get(entry.model)?.delete(key);
    const { uid, grantId } = entry.payload;
    if (uid !== undefined && sessionsByUid.get(uid) === key) sessionsByUid.delete(uid);
    if (grantId !== undefined) keysByGrant.get(grantId)?.delete(key);
  };

  const live = (key: string): AdapterPayload | undefined => {
    const entry = entries.get(key);
    if (entry && entry.expiresAt <= now()) {
      remove(key);
      return undefined;
    }
    return entry?.payload;
  };

  const sweep = () => {
    for (const [key, entry] of entries) if (entry.expiresAt <= now()) remove(key);
    for (const [grantId, keys] of keysByGrant) if (keys.size === 0) keysByGrant.delete(grantId);
  };

  const adapter = (model: string): Adapter => {
    const keyOf = (id: string) => `${model}:${id}`;
    return {
      async upsert(id, payload, expiresIn) {
        if (++writes % SWEEP_EVERY_WRITES === 0) sweep();
        const key = keyOf(id);
        remove(key);
        const keys = keysOf(model);
        while (keys.size >= options.maxEntriesPerKind) remove(keys.values().next().value as string);
        entries.set(key, { model, payload, expiresAt: expiresIn === undefined ? Infinity : now() + expiresIn * 1000 });
        keys.add(key);
        if (model === 'Session' && payload.uid !== undefined) sessionsByUid.set(payload.uid, key);
        if (payload.grantId !== undefined) {
          const grantKeys = keysByGrant.get(payload.grantId) ?? new Set<string>();
          grantKeys.add(key);
          keysByGrant.set(payload.grantId, grantKeys);
        }
      },
      async find(id) {
        return live(keyOf(id));
      },
      async findByUid(uid) {
        const key = sessionsByUid.get(uid);
        return key === undefined ? undefined : live(key);
      },
      async findByUserCode() {
        return undefined; // the device flow is not enabled
      },
      async consume(id) {
        const payload = live(keyOf(id));
        if (payload) payload.consumed = Math.floor(now() / 1000);
      },
      async destroy(id) {
        remove(keyOf(id));
      },
      async revokeByGrantId(grantId) {
        for (const key of keysByGrant.get(grantId) ?? []) remove(key);
        keysByGrant.delete(grantId);
      },
    };
  };
  return { adapter, size: (model) => byModel.get(model)?.size ?? 0 };
}
