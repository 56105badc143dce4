import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createClient } from '@redis/client';
import { sql } from 'kysely';
import { createLogger, migrate, openDatabase, type Database, type DatabaseConfig } from '@landscape/platform';
import { resetTestDatabase, testDatabaseName } from '@landscape/platform/testing';
import { temporaryFolder } from '../test-support.ts';
import type { StoreConfig } from '../config.ts';
import { createDatabaseStore, type AuthDatabase } from './database-adapter.ts';
import { createRedisStore } from './redis-adapter.ts';
import type { PayloadStore } from './store.ts';

const logger = createLogger('store-test', 'silent');
const migrations = join(import.meta.dirname, '../../migrations');
const MAX = 5;

/** A store under test: `open` gives another instance over the same data (another replica). */
interface Subject {
  open(now: () => number): Promise<PayloadStore>;
  /** Writes an entry the way something other than the adapter might: a payload that is not JSON. */
  corrupt(kind: string, id: string, expiresAt: number): Promise<void>;
  cleanUp(): Promise<void>;
}

async function sqlSubject(config: DatabaseConfig): Promise<Subject> {
  if (config.kind !== 'sqlite') await resetTestDatabase(config, logger);
  const databases: Array<Database<AuthDatabase>> = [];
  const open = async () => {
    const database = openDatabase<AuthDatabase>(config, { logger });
    databases.push(database);
    await migrate(database, migrations, logger);
    return database;
  };
  const first = await open();
  return {
    async open(now) {
      // A SQLite file is one process's alone (its connection locks it), so another instance there is
      // another store over the same connection; on a server it has a connection of its own.
      const database = config.kind === 'sqlite' ? first : await open();
      return createDatabaseStore(database, { maxEntriesPerKind: MAX, now });
    },
    async corrupt(kind, id, expiresAt) {
      await sql`insert into oidc_payloads (kind, id, payload, expires_at) values (${kind}, ${id}, ${'{"cut short'}, ${expiresAt})`.execute(
        first.db,
      );
    },
    async cleanUp() {
      for (const database of databases) await database.close();
    },
  };
}

async function redisSubject(): Promise<Subject> {
  const config: StoreConfig = {
    kind: 'redis',
    maxEntriesPerKind: MAX,
    redis: {
      url: 'redis://127.0.0.1:6379',
      keyPrefix: `auth-server-test:${testDatabaseName('store')}:${randomUUID()}:`,
    },
  };
  const admin = createClient({ url: config.redis.url });
  await admin.connect();
  const stores: PayloadStore[] = [];
  return {
    async open(now) {
      const store = await createRedisStore(config, { logger, now });
      stores.push(store);
      return store;
    },
    async corrupt(kind, id, expiresAt) {
      await admin.hSet(`${config.redis.keyPrefix}${kind}:${id}`, {
        payload: '{"cut short',
        expiresAt: String(expiresAt),
      });
    },
    async cleanUp() {
      for (const store of stores) await store.close();
      for await (const keys of admin.scanIterator({ MATCH: `${config.redis.keyPrefix}*` }))
        if (keys.length > 0) await admin.del(keys);
      await admin.close();
    },
  };
}

const folder = temporaryFolder();
after(() => folder.remove());

const subjects: Array<[string, () => Promise<Subject>]> = [
  [
    'PostgreSQL',
    () =>
      sqlSubject({
        kind: 'postgres',
        host: '127.0.0.1',
        port: 5432,
        username: 'postgres',
        database: testDatabaseName('auth_store'),
        poolSize: 2,
        connectTimeoutMs: 5000,
      }),
  ],
  [
    'SQLite',
    () => sqlSubject({ kind: 'sqlite', file: join(folder.path, 'store.db'), poolSize: 1, connectTimeoutMs: 5000 }),
  ],
  ['Redis', redisSubject],
];

for (const [name, make] of subjects) {
  describe(`the ${name} store`, () => {
    let subject: Subject;
    let store: PayloadStore;
    let clock = Date.now();
    const now = () => clock;

    before(async () => {
      subject = await make();
      store = await subject.open(now);
    });
    after(() => subject?.cleanUp());

    it('when an entry is written, then it is found by its id, and an unknown id finds nothing', async () => {
      await store.adapter('Interaction').upsert('i1', { uid: 'u1', params: { client_id: 'writer' } }, 600);
      assert.deepEqual(await store.adapter('Interaction').find('i1'), { uid: 'u1', params: { client_id: 'writer' } });
      assert.equal(await store.adapter('Interaction').find('unknown'), undefined);
      assert.equal(await store.adapter('Session').find('i1'), undefined, 'another kind with the same id');
    });

    it('when another instance writes an entry, then this one finds it (replicas share the store)', async () => {
      const other = await subject.open(now);
      await other.adapter('Session').upsert('shared', { accountId: 'magnus', uid: 'shared-uid' }, 3600);
      assert.deepEqual(await store.adapter('Session').findByUid('shared-uid'), {
        accountId: 'magnus',
        uid: 'shared-uid',
      });
    });

    it('when a session is looked up by its uid and a device code by its user code, then each is found', async () => {
      await store.adapter('Session').upsert('s1', { uid: 'session-uid', accountId: 'magnus' }, 3600);
      await store.adapter('DeviceCode').upsert('d1', { userCode: 'ABCD-EFGH', grantId: 'g-device' }, 600);
      assert.deepEqual(await store.adapter('Session').findByUid('session-uid'), {
        uid: 'session-uid',
        accountId: 'magnus',
      });
      assert.deepEqual(await store.adapter('DeviceCode').findByUserCode('ABCD-EFGH'), {
        userCode: 'ABCD-EFGH',
        grantId: 'g-device',
      });
      assert.equal(await store.adapter('Session').findByUid('no-such-uid'), undefined);
      assert.equal(await store.adapter('DeviceCode').findByUserCode('NONE-NONE'), undefined);
    });

    it('when a session is written again with another uid, then the old uid finds nothing', async () => {
      await store.adapter('Session').upsert('renamed', { uid: 'old-uid' }, 3600);
      await store.adapter('Session').upsert('renamed', { uid: 'new-uid' }, 3600);
      assert.equal(await store.adapter('Session').findByUid('old-uid'), undefined);
      assert.deepEqual(await store.adapter('Session').findByUid('new-uid'), { uid: 'new-uid' });
    });

    it('when a code is consumed, then it is still found, marked with the time it was consumed; consuming an unknown id does nothing', async () => {
      await store.adapter('AuthorizationCode').upsert('c1', { grantId: 'g1' }, 60);
      await store.adapter('AuthorizationCode').consume('c1');
      assert.deepEqual(await store.adapter('AuthorizationCode').find('c1'), {
        grantId: 'g1',
        consumed: Math.floor(clock / 1000),
      });
      await store.adapter('AuthorizationCode').consume('never-written');
      assert.equal(await store.adapter('AuthorizationCode').find('never-written'), undefined);
    });

    it('when an entry is destroyed, then it is gone and no longer counts', async () => {
      await store.adapter('Grant').upsert('to-destroy', { accountId: 'magnus' }, 3600);
      const before = await store.size('Grant');
      await store.adapter('Grant').destroy('to-destroy');
      assert.equal(await store.adapter('Grant').find('to-destroy'), undefined);
      assert.equal(await store.size('Grant'), before - 1);
    });

    it('when a grant is revoked, then every entry issued under it goes, of every kind, and other grants stay', async () => {
      await store.adapter('Grant').upsert('g2', { grantId: 'g2', accountId: 'magnus' }, 3600);
      await store.adapter('AuthorizationCode').upsert('c2', { grantId: 'g2' }, 60);
      await store.adapter('AuthorizationCode').upsert('c3', { grantId: 'g3' }, 60);
      await store.adapter('AuthorizationCode').revokeByGrantId('g2');
      assert.equal(await store.adapter('Grant').find('g2'), undefined);
      assert.equal(await store.adapter('AuthorizationCode').find('c2'), undefined);
      assert.deepEqual(await store.adapter('AuthorizationCode').find('c3'), { grantId: 'g3' });
    });

    it('when an entry is written again, then the new payload replaces the old one and it is no longer consumed', async () => {
      await store.adapter('Interaction').upsert('again', { n: 1 }, 600);
      await store.adapter('Interaction').consume('again');
      await store.adapter('Interaction').upsert('again', { n: 2 }, 600);
      assert.deepEqual(await store.adapter('Interaction').find('again'), { n: 2 });
    });

    it('when an entry has expired, then no lookup finds it, and after the next write it no longer counts', async () => {
      await store.adapter('Session').upsert('short', { uid: 'short-uid' }, 10);
      await store.adapter('AuthorizationCode').upsert('short-code', { userCode: 'SHOR-TTTT' }, 10);
      clock += 11_000;
      assert.equal(await store.adapter('Session').find('short'), undefined);
      assert.equal(await store.adapter('Session').findByUid('short-uid'), undefined);
      assert.equal(await store.adapter('AuthorizationCode').findByUserCode('SHOR-TTTT'), undefined);
      const counted = await store.size('Session');
      await store.adapter('Session').upsert('fresh', {}, 3600);
      assert.equal(await store.size('Session'), counted, 'the expired one went as the fresh one came');
    });

    it('when more entries of a kind are written than the cap, then the kind keeps the cap, the newest stay and other kinds are untouched', async () => {
      const sessions = await store.size('Session');
      for (let i = 0; i < 3 * MAX; i++) {
        clock += 1000;
        await store.adapter('Interaction').upsert(`flood${i}`, { i }, 600);
      }
      assert.equal(await store.size('Interaction'), MAX);
      assert.equal(await store.adapter('Interaction').find('flood0'), undefined);
      for (let i = 2 * MAX; i < 3 * MAX; i++)
        assert.deepEqual(await store.adapter('Interaction').find(`flood${i}`), { i });
      assert.equal(await store.size('Session'), sessions);
    });

    it('when a stored payload is not valid JSON, then it reads as absent instead of failing the request', async () => {
      await subject.corrupt('Interaction', 'broken', clock + 600_000);
      assert.equal(await store.adapter('Interaction').find('broken'), undefined);
    });
  });
}
