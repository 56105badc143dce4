import { createClient } from '@redis/client';
import type { Adapter, AdapterPayload } from '@landscape/vendor/oidc-provider';
import type { Logger } from 'pino';
import { backoffDelay } from '@landscape/platform';
import type { StoreConfig } from '../config.ts';
import { expiryOf, parsePayload } from './payload.ts';
import type { PayloadStore } from './store.ts';

const CONNECT_TIMEOUT_MS = 5000;

/**
 * oidc-provider's state in Redis, shared by every replica. Each entry is a hash (payload, consumed,
 * expiresAt) that Redis expires itself; `uid:`, `userCode:` and `grant:` keys find entries by those
 * fields, and a sorted set per kind, ordered by expiry, keeps the kind within `maxEntriesPerKind`.
 */
export async function createRedisStore(
  config: StoreConfig,
  options: { logger: Logger; now?: () => number },
): Promise<PayloadStore & { ping(): Promise<void> }> {
  const now = options.now ?? Date.now;
  let connected = false;
  const client = createClient({
    url: config.redis.url,
    ...(config.redis.password ? { password: config.redis.password } : {}),
    // Unreachable at start-up stops the service (as an unreachable database does); a connection lost
    // later is retried with backoff, and meanwhile commands fail at once instead of queueing.
    socket: {
      connectTimeout: CONNECT_TIMEOUT_MS,
      reconnectStrategy: (retries: number, cause: Error) =>
        connected ? backoffDelay(retries, { initialMs: 100, maxMs: 5000 }) : cause,
    },
    disableOfflineQueue: true,
  });
  client.on('error', (error: unknown) => {
    if (connected) options.logger.warn({ err: error }, 'redis connection failed');
  });
  try {
    await client.connect();
    connected = true;
  } catch (error) {
    throw new Error(
      `cannot connect to redis at ${config.redis.url} (auth.store.redis.url): ${(error as Error).message}`,
      { cause: error },
    );
  }
  const prefix = config.redis.keyPrefix;
  const entryKey = (kind: string, id: string) => `${prefix}${kind}:${id}`;
  const kindIndex = (kind: string) => `${prefix}kinds:${kind}`;
  const uidKey = (kind: string, uid: string) => `${prefix}uid:${kind}:${uid}`;
  const userCodeKey = (kind: string, code: string) => `${prefix}userCode:${kind}:${code}`;
  const grantKey = (grantId: string) => `${prefix}grant:${grantId}`;

  const read = async (
    key: string | null,
    matches: (payload: AdapterPayload) => boolean = () => true,
  ): Promise<AdapterPayload | undefined> => {
    if (key === null) return undefined;
    const entry = await client.hGetAll(key);
    // Redis expires on its own clock; the entry's own expiry keeps every store's answer the same.
    if (!(Number(entry['expiresAt']) > now())) return undefined;
    const payload = parsePayload(
      entry['payload'],
      entry['consumed'] === undefined ? undefined : Number(entry['consumed']),
    );
    // A pointer outlives a rewrite of its entry with another uid or user code: then it points nowhere.
    return payload && matches(payload) ? payload : undefined;
  };

  const keepWithinCap = async (kind: string, written: string) => {
    const excess = (await client.zCard(kindIndex(kind))) - config.maxEntriesPerKind;
    if (excess <= 0) return;
    const victims = (await client.zRange(kindIndex(kind), 0, excess)).filter((id) => id !== written).slice(0, excess);
    if (victims.length === 0) return;
    await client
      .multi()
      .zRem(kindIndex(kind), victims)
      .del(victims.map((id) => entryKey(kind, id)))
      .exec();
  };

  const adapter = (kind: string): Adapter => ({
    async upsert(id, payload, expiresIn) {
      const at = now();
      const expiresAt = expiryOf(expiresIn, at);
      const key = entryKey(kind, id);
      const write = client
        .multi()
        .zRemRangeByScore(kindIndex(kind), '-inf', at)
        .del(key)
        .hSet(key, { payload: JSON.stringify(payload), expiresAt: String(expiresAt) })
        .pExpireAt(key, expiresAt)
        .zAdd(kindIndex(kind), { score: expiresAt, value: id });
      const pointers = [
        payload.uid !== undefined ? uidKey(kind, payload.uid) : undefined,
        typeof payload.userCode === 'string' ? userCodeKey(kind, payload.userCode) : undefined,
      ];
      for (const pointer of pointers)
        if (pointer !== undefined) write.set(pointer, key, { expiration: { type: 'PXAT', value: expiresAt } });
      if (payload.grantId !== undefined) {
        // The grant's index lives as long as its longest-lived entry.
        write
          .sAdd(grantKey(payload.grantId), key)
          .pExpireAt(grantKey(payload.grantId), expiresAt, 'GT')
          .pExpireAt(grantKey(payload.grantId), expiresAt, 'NX');
      }
      await write.exec();
      await keepWithinCap(kind, id);
    },
    async find(id) {
      return read(entryKey(kind, id));
    },
    async findByUid(uid) {
      return read(await client.get(uidKey(kind, uid)), (payload) => payload.uid === uid);
    },
    async findByUserCode(userCode) {
      return read(await client.get(userCodeKey(kind, userCode)), (payload) => payload.userCode === userCode);
    },
    async consume(id) {
      const key = entryKey(kind, id);
      // Only an entry that exists: HSET on a missing key would create one without an expiry.
      if ((await client.exists(key)) === 1) await client.hSet(key, 'consumed', String(Math.floor(now() / 1000)));
    },
    async destroy(id) {
      await client.multi().del(entryKey(kind, id)).zRem(kindIndex(kind), id).exec();
    },
    async revokeByGrantId(grantId) {
      const keys = await client.sMembers(grantKey(grantId));
      await client.del([...keys, grantKey(grantId)]);
    },
  });

  return {
    adapter,
    size: (kind) => client.zCard(kindIndex(kind)),
    async ping() {
      await client.ping();
    },
    async close() {
      await client.close();
    },
  };
}
