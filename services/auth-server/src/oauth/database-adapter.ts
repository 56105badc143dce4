import type { Adapter, AdapterPayload } from '@landscape/vendor/oidc-provider';
import type { Database } from '@landscape/platform';
import { expiryOf, parsePayload } from './payload.ts';
import type { PayloadStore } from './store.ts';

export interface OidcPayloadsTable {
  kind: string;
  id: string;
  payload: string;
  grant_id: string | null;
  user_code: string | null;
  uid: string | null;
  expires_at: number;
  consumed_at: number | null;
}

export interface AuthDatabase {
  oidc_payloads: OidcPayloadsTable;
}

/**
 * oidc-provider's state in the service's SQL database (migrations/), so every replica sees the
 * sign-ins the others started. Expired rows are never returned; each write deletes its kind's expired
 * rows, and a kind that has more than `maxEntriesPerKind` rows loses those nearest their end.
 */
export function createDatabaseStore(
  database: Database<AuthDatabase>,
  options: { maxEntriesPerKind: number; now?: () => number },
): PayloadStore {
  const { db } = database;
  const now = options.now ?? Date.now;
  const table = 'oidc_payloads' as const;

  const live = (kind: string) =>
    db.selectFrom(table).select(['payload', 'consumed_at']).where('kind', '=', kind).where('expires_at', '>', now());
  const read = (row: { payload: string; consumed_at: number | null } | undefined) =>
    parsePayload(row?.payload, row?.consumed_at);

  const keepWithinCap = async (kind: string, written: string) => {
    const { count } = await db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('kind', '=', kind)
      .executeTakeFirstOrThrow();
    const excess = Number(count) - options.maxEntriesPerKind;
    if (excess <= 0) return;
    // Two steps: MySQL takes no LIMIT inside an IN subquery.
    const victims = await db
      .selectFrom(table)
      .select('id')
      .where('kind', '=', kind)
      .where('id', '!=', written)
      .orderBy('expires_at')
      .limit(excess)
      .execute();
    if (victims.length > 0)
      await db
        .deleteFrom(table)
        .where('kind', '=', kind)
        .where(
          'id',
          'in',
          victims.map((v) => v.id),
        )
        .execute();
  };

  const adapter = (kind: string): Adapter => ({
    async upsert(id, payload: AdapterPayload, expiresIn) {
      const at = now();
      await db.deleteFrom(table).where('kind', '=', kind).where('expires_at', '<=', at).execute();
      const row = {
        payload: JSON.stringify(payload),
        grant_id: payload.grantId ?? null,
        user_code: payload.userCode ?? null,
        uid: payload.uid ?? null,
        expires_at: expiryOf(expiresIn, at),
        consumed_at: null,
      };
      const insert = db.insertInto(table).values({ kind, id, ...row });
      await (database.kind === 'mysql'
        ? insert.onDuplicateKeyUpdate(row)
        : insert.onConflict((conflict) => conflict.columns(['kind', 'id']).doUpdateSet(row))
      ).execute();
      await keepWithinCap(kind, id);
    },
    async find(id) {
      return read(await live(kind).where('id', '=', id).executeTakeFirst());
    },
    async findByUid(uid) {
      return read(await live(kind).where('uid', '=', uid).executeTakeFirst());
    },
    async findByUserCode(userCode) {
      return read(await live(kind).where('user_code', '=', userCode).executeTakeFirst());
    },
    async consume(id) {
      await db
        .updateTable(table)
        .set({ consumed_at: Math.floor(now() / 1000) })
        .where('kind', '=', kind)
        .where('id', '=', id)
        .execute();
    },
    async destroy(id) {
      await db.deleteFrom(table).where('kind', '=', kind).where('id', '=', id).execute();
    },
    async revokeByGrantId(grantId) {
      await db.deleteFrom(table).where('grant_id', '=', grantId).execute();
    },
  });

  return {
    adapter,
    async size(kind) {
      const { count } = await db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('kind', '=', kind)
        .executeTakeFirstOrThrow();
      return Number(count);
    },
    // The database belongs to the service, which closes it.
    async close() {},
  };
}
