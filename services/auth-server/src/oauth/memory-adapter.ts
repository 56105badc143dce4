import type { Adapter, AdapterPayload } from 'oidc-provider';

interface Entry {
  payload: AdapterPayload;
  expiresAt: number;
}

const SWEEP_EVERY_WRITES = 500;

/**
 * Where oidc-provider keeps sign-in sessions, interactions, consents and authorization codes: this
 * process's memory. Access tokens are self-contained JWTs and are not stored, so only a browser
 * sign-in in progress is lost on restart (or served by another replica).
 */
export function createMemoryAdapter(now: () => number = Date.now): (model: string) => Adapter {
  const entries = new Map<string, Entry>();
  const sessionsByUid = new Map<string, string>();
  const keysByGrant = new Map<string, Set<string>>();
  let writes = 0;

  const remove = (key: string) => {
    const entry = entries.get(key);
    entries.delete(key);
    if (!entry) return;
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

  return (model) => {
    const keyOf = (id: string) => `${model}:${id}`;
    return {
      async upsert(id, payload, expiresIn) {
        if (++writes % SWEEP_EVERY_WRITES === 0) sweep();
        const key = keyOf(id);
        remove(key);
        entries.set(key, { payload, expiresAt: expiresIn === undefined ? Infinity : now() + expiresIn * 1000 });
        if (model === 'Session' && payload.uid !== undefined) sessionsByUid.set(payload.uid, key);
        if (payload.grantId !== undefined) {
          const keys = keysByGrant.get(payload.grantId) ?? new Set<string>();
          keys.add(key);
          keysByGrant.set(payload.grantId, keys);
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
}
