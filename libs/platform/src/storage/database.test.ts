import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { sql, type Generated } from 'kysely';
import { createConnection as createMysqlConnection } from 'mysql2/promise';
import pg from 'pg';
import { pino } from 'pino';
import {
  assertTestDatabase,
  compiledOnce,
  ensureDatabase,
  isUniqueViolation,
  migrate,
  openDatabase,
  type Database,
  type DatabaseConfig,
} from './index.ts';
import { readMigrations, splitStatements } from './migrate.ts';
import { testDatabaseName } from '../testing/index.ts';

const logger = pino({ level: 'silent' });
const fixtures = join(import.meta.dirname, 'fixtures', 'migrations');
const testDatabase = testDatabaseName('storage');

interface TestDb {
  items: { product_id: number; item_id: number; code: string; name: string; version: Generated<number> };
  engine_notes: { id: number; written_by: string };
  schema_migrations: { version: number; name: string; checksum: string; applied_at: unknown };
  broken_partial: { id: number };
}

/** Drops and inspects the test databases with administrator rights, outside the code under test. */
interface Engine {
  kind: DatabaseConfig['kind'];
  config: DatabaseConfig;
  drop(name: string): Promise<void>;
  exists(name: string): Promise<boolean>;
  /** A user that may connect but not create databases; removed by the returned function. */
  restrictedUser?(): Promise<{ username: string; remove(): Promise<void> }>;
}

async function withPgAdmin<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port: 5432,
    user: 'postgres',
    database: 'postgres',
    connectionTimeoutMillis: 5000,
  });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

async function withMysqlAdmin<T>(
  use: (connection: Awaited<ReturnType<typeof createMysqlConnection>>) => Promise<T>,
): Promise<T> {
  const connection = await createMysqlConnection({ host: '127.0.0.1', port: 3306, user: 'root', connectTimeout: 5000 });
  try {
    return await use(connection);
  } finally {
    await connection.end();
  }
}

const sqliteFolder = await mkdtemp(join(tmpdir(), 'landscape-storage-'));
const restrictedUser = 'landscape_storage_test_user';

const engines: Engine[] = [
  {
    kind: 'postgres',
    config: {
      kind: 'postgres',
      host: '127.0.0.1',
      port: 5432,
      database: testDatabase,
      username: 'postgres',
      poolSize: 4,
      connectTimeoutMs: 3000,
    },
    drop: (name) => withPgAdmin(async (c) => void (await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`))),
    exists: (name) =>
      withPgAdmin(async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1),
    restrictedUser: async () => {
      await withPgAdmin(async (c) => {
        await c.query(`DROP ROLE IF EXISTS ${restrictedUser}`);
        await c.query(`CREATE ROLE ${restrictedUser} LOGIN NOCREATEDB`);
      });
      return {
        username: restrictedUser,
        remove: () => withPgAdmin(async (c) => void (await c.query(`DROP ROLE IF EXISTS ${restrictedUser}`))),
      };
    },
  },
  {
    kind: 'mysql',
    config: {
      kind: 'mysql',
      host: '127.0.0.1',
      port: 3306,
      database: testDatabase,
      username: 'root',
      poolSize: 4,
      connectTimeoutMs: 3000,
    },
    drop: (name) => withMysqlAdmin(async (c) => void (await c.query(`DROP DATABASE IF EXISTS \`${name}\``))),
    exists: (name) =>
      withMysqlAdmin(async (c) => {
        const [rows] = await c.query('SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [
          name,
        ]);
        return Array.isArray(rows) && rows.length === 1;
      }),
    restrictedUser: async () => {
      await withMysqlAdmin(async (c) => {
        await c.query(`DROP USER IF EXISTS '${restrictedUser}'@'%'`);
        await c.query(`CREATE USER '${restrictedUser}'@'%'`);
      });
      return {
        username: restrictedUser,
        remove: () => withMysqlAdmin(async (c) => void (await c.query(`DROP USER IF EXISTS '${restrictedUser}'@'%'`))),
      };
    },
  },
  {
    kind: 'sqlite',
    config: {
      kind: 'sqlite',
      file: join(sqliteFolder, 'data', `${testDatabase}.db`),
      poolSize: 1,
      connectTimeoutMs: 3000,
    },
    // For SQLite the "database" is the data folder holding the file.
    drop: (name) => rm(join(sqliteFolder, 'data'), { recursive: true, force: true }).then(() => void name),
    exists: async () => existsSync(join(sqliteFolder, 'data')),
  },
];

after(() => rm(sqliteFolder, { recursive: true, force: true }));

/** A copy of the fixture migrations plus extra files, so a test can break or edit them. */
async function migrationsWith(extra: Record<string, string>): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'landscape-migrations-'));
  await cp(fixtures, folder, { recursive: true });
  for (const [name, text] of Object.entries(extra)) await writeFile(join(folder, name), text);
  return folder;
}

for (const engine of engines) {
  describe(`storage on ${engine.kind}`, () => {
    const { config } = engine;
    const opened: Database<TestDb>[] = [];
    const folders: string[] = [];

    const open = (overrides: Partial<DatabaseConfig> = {}) => {
      const database = openDatabase<TestDb>({ ...config, ...overrides });
      opened.push(database);
      return database;
    };

    /** An empty, existing test database. */
    const fresh = async () => {
      assertTestDatabase(config);
      await closeAll();
      await engine.drop(testDatabase);
      await ensureDatabase(config, logger);
      return open();
    };

    const closeAll = async () => {
      for (const database of opened.splice(0)) await database.close();
    };

    const tempMigrations = async (extra: Record<string, string>) => {
      const folder = await migrationsWith(extra);
      folders.push(folder);
      return folder;
    };

    before(() => assertTestDatabase(config));
    afterEach(closeAll);
    after(async () => {
      for (const folder of folders) await rm(folder, { recursive: true, force: true });
      await engine.drop(testDatabase);
    });

    test('when a query compiled once runs with other values, then each run answers for its own values', async () => {
      const database = await fresh();
      await migrate(database, fixtures, logger);
      const { db } = database;
      await db
        .insertInto('items')
        .values([
          { product_id: 1, item_id: 2, code: 'a-2', name: 'second' },
          { product_id: 1, item_id: 1, code: 'a-1', name: 'first' },
          { product_id: 2, item_id: 1, code: 'b-1', name: 'other' },
        ])
        .execute();
      const ofProduct = compiledOnce(
        db,
        db.selectFrom('items').select(['item_id', 'name']).where('product_id', '=', 0).orderBy('item_id'),
      );
      assert.deepEqual(await ofProduct(1), [
        { item_id: 1, name: 'first' },
        { item_id: 2, name: 'second' },
      ]);
      assert.deepEqual(await ofProduct(2), [{ item_id: 1, name: 'other' }]);
      assert.deepEqual(await ofProduct(3), []);
      await assert.rejects(ofProduct(1, 2), /takes 1 parameters, not 2/);
    });

    if (engine.kind !== 'sqlite') {
      test('when a query compiled once runs again on a server connection, then the server parses it once and only executes it after', async () => {
        await migrate(await fresh(), fixtures, logger);
        // One connection, so every statement below runs in the session inspected.
        const { db } = open({ poolSize: 1 });
        await db.insertInto('items').values({ product_id: 1, item_id: 1, code: 'a-1', name: 'first' }).execute();
        const query = db.selectFrom('items').select('name').where('product_id', '=', 0);
        const byProduct = compiledOnce(db, query);
        for (const productId of [1, 2, 1]) await byProduct(productId);
        assert.deepEqual(await byProduct(1), [{ name: 'first' }]);

        if (engine.kind === 'postgres') {
          const { rows } = await sql<{ statement: string }>`SELECT statement FROM pg_prepared_statements`.execute(db);
          assert.deepEqual(
            rows.map((row) => row.statement),
            [query.compile().sql],
            'the compiled query is the one statement prepared; the other queries left none',
          );
        } else {
          const { rows } = await sql<{
            Variable_name: string;
            Value: string;
          }>`SHOW SESSION STATUS LIKE 'Com_stmt_%'`.execute(db);
          const count = (name: string) => Number(rows.find((row) => row.Variable_name === name)?.Value);
          assert.equal(count('Com_stmt_prepare'), 1, 'prepared once');
          assert.equal(count('Com_stmt_execute'), 4, 'executed on every run');
        }
      });
    }

    test('when migrate runs twice, then each migration is applied once and recorded', async () => {
      const database = await fresh();
      await migrate(database, fixtures, logger);
      const first = await database.db.selectFrom('schema_migrations').selectAll().orderBy('version').execute();
      assert.deepEqual(
        first.map((m) => m.version),
        [1, 2],
      );
      assert.equal(first[0]?.name, '001_create_items.sql');
      for (const m of first) assert.match(m.checksum, /^[0-9a-f]{64}$/);

      await migrate(database, fixtures, logger);
      const second = await database.db.selectFrom('schema_migrations').selectAll().orderBy('version').execute();
      assert.deepEqual(second, first);
    });

    test('when an engine-specific migration file exists, then it is applied instead of the portable one', async () => {
      const database = await fresh();
      await migrate(database, fixtures, logger);
      const expected = { postgres: 'postgres override', mysql: 'portable', sqlite: 'sqlite override' }[engine.kind];
      const note = await database.db.selectFrom('engine_notes').select('written_by').executeTakeFirstOrThrow();
      assert.equal(note.written_by, expected);
      const recorded = await database.db
        .selectFrom('schema_migrations')
        .select('name')
        .where('version', '=', 2)
        .executeTakeFirstOrThrow();
      const file =
        engine.kind === 'mysql' ? '002_create_engine_notes.sql' : `002_create_engine_notes.${engine.kind}.sql`;
      assert.equal(recorded.name, file);
    });

    test('rows are created, read, updated and deleted through Kysely, with integers as numbers', async () => {
      const database = await fresh();
      await migrate(database, fixtures, logger);
      const { db } = database;
      await db
        .insertInto('items')
        .values([
          { product_id: 1, item_id: 1, code: 'a-1', name: 'first' },
          { product_id: 1, item_id: 2, code: 'a-2', name: 'second' },
          { product_id: 2, item_id: 1, code: 'b-1', name: 'third' },
        ])
        .execute();

      const rows = await db.selectFrom('items').selectAll().where('product_id', '=', 1).orderBy('item_id').execute();
      assert.deepEqual(rows, [
        { product_id: 1, item_id: 1, code: 'a-1', name: 'first', version: 0 },
        { product_id: 1, item_id: 2, code: 'a-2', name: 'second', version: 0 },
      ]);

      const updated = await db
        .updateTable('items')
        .set((eb) => ({ version: eb('version', '+', 1) }))
        .where('product_id', '=', 1)
        .where('item_id', '=', 2)
        .where('version', '=', 0)
        .executeTakeFirst();
      assert.equal(updated.numUpdatedRows, 1n);

      const { count } = await db
        .selectFrom('items')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .executeTakeFirstOrThrow();
      assert.equal(count, 3);

      const deleted = await db.deleteFrom('items').where('product_id', '=', 1).executeTakeFirst();
      assert.equal(deleted.numDeletedRows, 2n);
      const left = await db.selectFrom('items').select(['product_id', 'item_id', 'version']).execute();
      assert.deepEqual(left, [{ product_id: 2, item_id: 1, version: 0 }]);
    });

    test('when a row repeats a primary key or a unique value, then isUniqueViolation recognises the error', async () => {
      const database = await fresh();
      await migrate(database, fixtures, logger);
      const { db } = database;
      await db.insertInto('items').values({ product_id: 1, item_id: 1, code: 'a-1', name: 'first' }).execute();

      const samePrimaryKey = db
        .insertInto('items')
        .values({ product_id: 1, item_id: 1, code: 'other', name: 'again' })
        .execute();
      await assert.rejects(samePrimaryKey, (error) => isUniqueViolation(error));
      const sameCode = db
        .insertInto('items')
        .values({ product_id: 1, item_id: 2, code: 'a-1', name: 'again' })
        .execute();
      await assert.rejects(sameCode, (error) => isUniqueViolation(error));

      const missingName = sql`INSERT INTO items (product_id, item_id, code) VALUES (3, 3, 'c-3')`.execute(db);
      await assert.rejects(missingName, (error) => !isUniqueViolation(error));
    });

    test('when a migration fails, then the error names the file and the earlier migrations stay recorded', async () => {
      const database = await fresh();
      const folder = await tempMigrations({
        '003_broken.sql': 'CREATE TABLE broken_partial (id INTEGER NOT NULL PRIMARY KEY);\nTHIS IS NOT SQL;\n',
      });
      await assert.rejects(migrate(database, folder, logger), (error: Error) => {
        assert.match(error.message, /^migration 003_broken\.sql failed at statement 2 of 2: /);
        assert.ok(error.cause, 'keeps the database error as the cause');
        return true;
      });
      const recorded = await database.db.selectFrom('schema_migrations').select('version').orderBy('version').execute();
      assert.deepEqual(
        recorded.map((m) => m.version),
        [1, 2],
      );

      const partial = sql`SELECT id FROM broken_partial`.execute(database.db);
      if (engine.kind === 'mysql') {
        // MySQL commits DDL as it runs; the error says so.
        await partial;
      } else {
        await assert.rejects(partial, 'the failed migration was rolled back');
      }
    });

    test('when an applied migration file has changed, then migrate refuses to run', async () => {
      const database = await fresh();
      await migrate(database, fixtures, logger);
      const folder = await tempMigrations({
        '001_create_items.sql': 'CREATE TABLE items (product_id INTEGER NOT NULL PRIMARY KEY);\n',
        '003_more.sql': 'CREATE TABLE more_items (id INTEGER NOT NULL PRIMARY KEY);\n',
      });
      await assert.rejects(
        migrate(database, folder, logger),
        /migration 001_create_items\.sql was changed after it was applied/,
      );
      const recorded = await database.db.selectFrom('schema_migrations').select('version').execute();
      assert.equal(recorded.length, 2, 'nothing after the changed migration was applied');
    });

    test('when a new migration is numbered below an applied one, then migrate refuses to run', async () => {
      const database = await fresh();
      const later = await tempMigrations({
        '005_later.sql': 'CREATE TABLE later_items (id INTEGER NOT NULL PRIMARY KEY);\n',
      });
      await migrate(database, later, logger);
      const earlier = await tempMigrations({
        '004_earlier.sql': 'CREATE TABLE earlier_items (id INTEGER NOT NULL PRIMARY KEY);\n',
        '005_later.sql': 'CREATE TABLE later_items (id INTEGER NOT NULL PRIMARY KEY);\n',
      });
      await assert.rejects(
        migrate(database, earlier, logger),
        /migration 004_earlier\.sql is not applied but migration 5 already is/,
      );
    });

    if (engine.kind !== 'sqlite') {
      test('when two instances migrate at once, then each migration is applied exactly once', async () => {
        await fresh();
        const replicas = [open(), open(), open()];
        await Promise.all(replicas.map((replica) => migrate(replica, fixtures, logger)));
        const recorded = await replicas[0]!.db
          .selectFrom('schema_migrations')
          .select('version')
          .orderBy('version')
          .execute();
        assert.deepEqual(
          recorded.map((m) => m.version),
          [1, 2],
        );
      });
    }

    test('ensureDatabase creates a missing database and leaves an existing one alone', async () => {
      await closeAll();
      await engine.drop(testDatabase);
      assert.equal(await engine.exists(testDatabase), false);

      await ensureDatabase(config, logger);
      assert.equal(await engine.exists(testDatabase), true);

      const database = open();
      await migrate(database, fixtures, logger);
      await database.db.insertInto('items').values({ product_id: 9, item_id: 9, code: 'kept', name: 'kept' }).execute();
      await ensureDatabase(config, logger);
      const kept = await database.db.selectFrom('items').select('code').execute();
      assert.deepEqual(kept, [{ code: 'kept' }]);
    });

    if (engine.restrictedUser) {
      const makeUser = engine.restrictedUser;
      test('when the user may not create the database, then ensureDatabase says what to create', async () => {
        const missing = testDatabaseName('storage_denied');
        await engine.drop(missing);
        const user = await makeUser();
        try {
          const denied = { ...config, database: missing, username: user.username };
          const expected =
            engine.kind === 'postgres'
              ? `CREATE DATABASE "${missing}" OWNER "${user.username}";`
              : `CREATE DATABASE \`${missing}\` CHARACTER SET utf8mb4; GRANT ALL PRIVILEGES ON \`${missing}\`.* TO '${user.username}'@'%';`;
          await assert.rejects(ensureDatabase(denied, logger), (error: Error) => {
            assert.ok(error.message.includes(`user ${user.username} cannot create it`), error.message);
            assert.ok(error.message.includes(`ask an administrator to run: ${expected}`), error.message);
            return true;
          });
          assert.equal(await engine.exists(missing), false);
        } finally {
          await user.remove();
        }
      });
    }

    if (engine.kind !== 'sqlite') {
      test('ping answers when the server is up', async () => {
        const database = await fresh();
        await database.ping();
      });

      test('when nothing listens on the port, then ping fails naming the server', async () => {
        const database = open({ port: 1 });
        await assert.rejects(database.ping(), (error: Error) => {
          assert.match(
            error.message,
            new RegExp(`^${engine.kind} 127\\.0\\.0\\.1:1/${testDatabase} is unreachable: \\S`),
          );
          return true;
        });
      });

      test('when the server accepts but never answers, then ping gives up after connectTimeoutMs', async () => {
        const sockets: Socket[] = [];
        const silent = createServer((socket) => void sockets.push(socket));
        await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
        const address = silent.address();
        assert.ok(address !== null && typeof address === 'object');
        try {
          const database = open({ port: address.port, connectTimeoutMs: 200 });
          await assert.rejects(database.ping(), (error: Error) => {
            assert.match(
              error.message,
              new RegExp(`^${engine.kind} 127\\.0\\.0\\.1:${address.port}/${testDatabase} is unreachable: `),
            );
            assert.match(error.message, /no answer within 200 ms|timeout|timed out/i);
            return true;
          });
          await closeAll();
        } finally {
          for (const socket of sockets) socket.destroy();
          await new Promise<void>((resolve) => silent.close(() => resolve()));
        }
      });
    }

    if (engine.kind === 'sqlite') {
      test('a file database runs in WAL mode with foreign keys enforced, and ping answers', async () => {
        const database = await fresh();
        await database.ping();
        const journal = await sql<{ journal_mode: string }>`PRAGMA journal_mode`.execute(database.db);
        assert.equal(journal.rows[0]?.journal_mode, 'wal');
        const foreignKeys = await sql<{ foreign_keys: number }>`PRAGMA foreign_keys`.execute(database.db);
        assert.equal(foreignKeys.rows[0]?.foreign_keys, 1);
      });

      test('an in-memory database migrates and keeps rows while open', async () => {
        const database = open({ file: ':memory:' });
        await ensureDatabase({ ...config, file: ':memory:' }, logger);
        await migrate(database, fixtures, logger);
        await database.db
          .insertInto('items')
          .values({ product_id: 1, item_id: 1, code: 'm', name: 'memory' })
          .execute();
        const rows = await database.db.selectFrom('items').select('name').execute();
        assert.deepEqual(rows, [{ name: 'memory' }]);
      });

      test('when the folder of the file does not exist, then openDatabase says ensureDatabase creates it', () => {
        const file = join(sqliteFolder, 'missing', 'deeper', 'x.db');
        assert.throws(
          () => openDatabase({ ...config, file }),
          /^Error: cannot open sqlite .*x\.db: .*ensureDatabase creates its folder/,
        );
      });
    }
  });
}

describe('storage configuration and migration files', () => {
  test('when a required setting is missing, then openDatabase names the key', () => {
    const base = { poolSize: 1, connectTimeoutMs: 1000 };
    assert.throws(
      () => openDatabase({ ...base, kind: 'postgres', database: 'x', username: 'u' }),
      /^Error: database\.host is required for postgres$/,
    );
    assert.throws(
      () => openDatabase({ ...base, kind: 'mysql', host: 'h', username: 'u' }),
      /^Error: database\.database is required for mysql$/,
    );
    assert.throws(
      () => openDatabase({ ...base, kind: 'postgres', host: 'h', database: 'x' }),
      /^Error: database\.username is required for postgres$/,
    );
    assert.throws(() => openDatabase({ ...base, kind: 'sqlite' }), /^Error: database\.file is required for sqlite$/);
  });

  test('assertTestDatabase accepts only _test names, in-memory SQLite and files under the temp folder', () => {
    const base = { poolSize: 1, connectTimeoutMs: 1000 };
    assert.throws(
      () => assertTestDatabase({ ...base, kind: 'postgres', database: 'landscape' }),
      /refusing to use postgres database "landscape" in a test/,
    );
    assert.throws(
      () => assertTestDatabase({ ...base, kind: 'mysql', database: 'test_reviews' }),
      /must end with _test/,
    );
    assert.throws(() => assertTestDatabase({ ...base, kind: 'mysql' }), /must end with _test/);
    assert.throws(
      () => assertTestDatabase({ ...base, kind: 'sqlite', file: '/var/lib/landscape/product.db' }),
      /refusing to use sqlite database/,
    );
    assert.throws(
      () => assertTestDatabase({ ...base, kind: 'sqlite', file: join(tmpdir(), '..', 'product.db') }),
      /refusing/,
    );
    assertTestDatabase({ ...base, kind: 'postgres', database: 'landscape_storage_test' });
    assertTestDatabase({ ...base, kind: 'sqlite', file: ':memory:' });
    assertTestDatabase({ ...base, kind: 'sqlite', file: join(tmpdir(), 'some-run', 'product.db') });
  });

  test('splitStatements splits at line-ending semicolons and drops whole-line comments', () => {
    const text = [
      '-- a comment; that ends with a semicolon;',
      'CREATE TABLE a (',
      "  note VARCHAR(10) DEFAULT 'x;y'",
      ');',
      '',
      'CREATE INDEX a_note ON a (note) ;  ',
      'INSERT INTO a (note) VALUES (1)',
    ].join('\r\n');
    assert.deepEqual(splitStatements(text), [
      "CREATE TABLE a (\n  note VARCHAR(10) DEFAULT 'x;y'\n)",
      'CREATE INDEX a_note ON a (note)',
      'INSERT INTO a (note) VALUES (1)',
    ]);
    assert.deepEqual(splitStatements('-- nothing to do here\n\n'), []);
  });

  test('readMigrations orders by version and picks the file for the engine', async () => {
    const forMysql = await readMigrations(fixtures, 'mysql');
    assert.deepEqual(
      forMysql.map((m) => m.fileName),
      ['001_create_items.sql', '002_create_engine_notes.sql'],
    );
    assert.deepEqual(forMysql[0]?.statements.length, 2);
    const forSqlite = await readMigrations(fixtures, 'sqlite');
    assert.deepEqual(
      forSqlite.map((m) => m.fileName),
      ['001_create_items.sql', '002_create_engine_notes.sqlite.sql'],
    );
    assert.equal(forSqlite[0]?.checksum, forMysql[0]?.checksum);
  });

  test('readMigrations refuses misnamed files, clashing versions and overrides without a portable file', async (t) => {
    const folders: string[] = [];
    t.after(async () => {
      for (const folder of folders) await rm(folder, { recursive: true, force: true });
    });
    const folderWith = async (files: Record<string, string>) => {
      const folder = await mkdtemp(join(tmpdir(), 'landscape-migrations-'));
      folders.push(folder);
      for (const [name, text] of Object.entries(files)) await writeFile(join(folder, name), text);
      return folder;
    };
    await assert.rejects(
      readMigrations(await folderWith({ 'create_items.sql': '' }), 'sqlite'),
      /create_items\.sql .* is not named NNN_description\.sql/,
    );
    await assert.rejects(
      readMigrations(await folderWith({ '001_a.sql': '', '001_b.sql': '' }), 'sqlite'),
      /migrations 001_a\.sql and 001_b\.sql share version 1/,
    );
    await assert.rejects(
      readMigrations(await folderWith({ '001_a.postgres.sql': '' }), 'sqlite'),
      /001_a\.postgres\.sql has no portable 001_a\.sql/,
    );
    await assert.rejects(
      readMigrations(join(tmpdir(), 'no-such-migrations-folder'), 'sqlite'),
      /cannot read migrations folder/,
    );
  });
});
