import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql, type RawBuilder } from 'kysely';
import { pino } from 'pino';
import { freePort, resetTestDatabase, testDatabaseName } from '../testing/index.ts';
import { isDataError, isUniqueViolation, openDatabase, type Database, type DatabaseConfig } from './index.ts';

const logger = pino({ level: 'silent' });
const database = testDatabaseName('storage_errors');

const configs: Record<DatabaseConfig['kind'], DatabaseConfig> = {
  postgres: {
    kind: 'postgres',
    host: '127.0.0.1',
    port: 5432,
    database,
    username: 'postgres',
    poolSize: 2,
    connectTimeoutMs: 3000,
  },
  mysql: {
    kind: 'mysql',
    host: '127.0.0.1',
    port: 3306,
    database,
    username: 'root',
    poolSize: 2,
    connectTimeoutMs: 3000,
  },
  // STRICT, so SQLite refuses a wrong type as the servers do; its VARCHAR lengths are never enforced.
  sqlite: { kind: 'sqlite', file: ':memory:', poolSize: 1, connectTimeoutMs: 3000 },
};

const tables: Record<DatabaseConfig['kind'], string[]> = {
  postgres: [
    'CREATE TABLE things (id INTEGER PRIMARY KEY, name VARCHAR(5) NOT NULL, amount INTEGER NOT NULL CHECK (amount >= 0))',
  ],
  mysql: [
    'CREATE TABLE things (id INTEGER PRIMARY KEY, name VARCHAR(5) NOT NULL, amount INTEGER NOT NULL CHECK (amount >= 0)) CHARACTER SET utf8mb4',
    'CREATE TABLE dated (d DATE NOT NULL)',
  ],
  sqlite: [
    'CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT NOT NULL, amount INTEGER NOT NULL CHECK (amount >= 0)) STRICT',
  ],
};

/** The error the real server raises for a statement, so the classification is checked against what drivers really throw. */
async function refusal(db: Database<unknown>, statement: Statement): Promise<unknown> {
  try {
    await (typeof statement === 'string' ? sql.raw(statement) : statement).execute(db.db);
  } catch (error) {
    return error;
  }
  assert.fail(`the database accepted: ${String(statement)}`);
}

type Statement = string | RawBuilder<unknown>;

const refusals: Record<DatabaseConfig['kind'], Array<[string, Statement]>> = {
  postgres: [
    // What the driver sends for a JavaScript string holding U+0000.
    ['U+0000 in text (22021)', sql`INSERT INTO things VALUES (1, ${'a\u0000b'}, 1)`],
    ['a value too long for its column (22001)', "INSERT INTO things VALUES (1, 'toolong', 1)"],
    ['an integer out of range (22003)', "INSERT INTO things VALUES (1, 'n', 2147483648)"],
    ['text where a number belongs (22P02)', "INSERT INTO things VALUES (1, 'n', CAST('x' AS INTEGER))"],
    ['a null in a NOT NULL column (23502)', 'INSERT INTO things VALUES (1, NULL, 1)'],
    ['a failed CHECK (23514)', "INSERT INTO things VALUES (1, 'n', -1)"],
  ],
  mysql: [
    ['a value too long for its column (ER_DATA_TOO_LONG)', "INSERT INTO things VALUES (1, 'toolong', 1)"],
    ['an integer out of range (ER_WARN_DATA_OUT_OF_RANGE)', "INSERT INTO things VALUES (1, 'n', 2147483648)"],
    ['bytes that are not UTF-8 (incorrect string value)', "INSERT INTO things VALUES (1, X'FF', 1)"],
    ['text where a number belongs (ER_TRUNCATED_WRONG_VALUE_FOR_FIELD)', "INSERT INTO things VALUES (1, 'n', 'x')"],
    ['a date that does not exist (ER_TRUNCATED_WRONG_VALUE)', "INSERT INTO dated VALUES ('2020-13-45')"],
    ['a null in a NOT NULL column (ER_BAD_NULL_ERROR)', 'INSERT INTO things VALUES (1, NULL, 1)'],
    ['a failed CHECK', "INSERT INTO things VALUES (1, 'n', -1)"],
  ],
  sqlite: [
    ['a null in a NOT NULL column (SQLITE_CONSTRAINT_NOTNULL)', 'INSERT INTO things VALUES (1, NULL, 1)'],
    ['a failed CHECK (SQLITE_CONSTRAINT_CHECK)', "INSERT INTO things VALUES (1, 'n', -1)"],
    [
      'text where a number belongs in a STRICT table (SQLITE_CONSTRAINT_DATATYPE)',
      "INSERT INTO things VALUES (1, 'n', 'x')",
    ],
  ],
};

for (const kind of ['postgres', 'mysql', 'sqlite'] as const) {
  describe(`storage error classification on ${kind}`, () => {
    let db: Database<unknown>;
    before(async () => {
      if (kind !== 'sqlite') await resetTestDatabase(configs[kind], logger);
      db = openDatabase(configs[kind]);
      for (const statement of tables[kind]) await sql.raw(statement).execute(db.db);
      await sql.raw("INSERT INTO things VALUES (100, 'n', 1)").execute(db.db);
    });
    after(async () => {
      await db.close();
    });

    for (const [what, statement] of refusals[kind]) {
      it(`when the server refuses ${what}, then it is a data error (the event's fault)`, async () => {
        const error = await refusal(db, statement);
        assert.equal(isDataError(error), true, String(error));
      });
    }

    it('when a primary key is duplicated, then it is a unique violation and not a data error (the domain decides)', async () => {
      const error = await refusal(db, "INSERT INTO things VALUES (100, 'm', 2)");
      assert.equal(isUniqueViolation(error), true);
      assert.equal(isDataError(error), false);
    });

    it('when the statement itself is wrong, then it is not a data error (no event can fix it)', async () => {
      assert.equal(isDataError(await refusal(db, 'INSERT INTO no_such_table VALUES (1)')), false);
    });

    if (kind !== 'sqlite') {
      it('when the server cannot be reached, then it is not a data error (the infrastructure fails)', async () => {
        const unreachable = openDatabase({ ...configs[kind], port: await freePort(), connectTimeoutMs: 1000 });
        try {
          const error = await refusal(unreachable, 'SELECT 1');
          assert.equal(isDataError(error), false);
        } finally {
          await unreachable.close();
        }
      });
    }
  });
}
