import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { databaseKinds, type DatabaseKind } from './config.ts';
import { errorMessage } from '../errors.ts';
import { kysely, type Database } from './database.ts';

export interface Migration {
  version: number;
  /** The file applied for this engine: `NNN_description.sql` or its `NNN_description.<kind>.sql` override. */
  fileName: string;
  checksum: string;
  statements: string[];
}

interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
}

const fileNamePattern = new RegExp(`^(\\d+)_([A-Za-z0-9_-]+)(?:\\.(${databaseKinds.join('|')}))?\\.sql$`);

const appliedAtType: Record<DatabaseKind, string> = { postgres: 'timestamptz', mysql: 'datetime(3)', sqlite: 'text' };

/**
 * Brings the schema up to date: applies, in version order, each migration of `migrationsDir` that
 * `schema_migrations` does not record yet. Another instance migrating the same database is waited
 * for. Throws (so the service stops) on a failed migration, on an applied migration whose file has
 * changed, and on a new migration numbered below one already applied.
 */
export async function migrate<DB>(database: Database<DB>, migrationsDir: string, logger: Logger): Promise<void> {
  const { sql } = kysely();
  const migrations = await readMigrations(migrationsDir, database.kind);
  const kind = database.kind;
  // One connection throughout: the advisory lock belongs to the session that took it.
  await database.db.connection().execute(async (connection) => {
    await lock(connection, kind);
    try {
      await sql
        .raw(
          `CREATE TABLE IF NOT EXISTS schema_migrations (
          version INTEGER NOT NULL PRIMARY KEY,
          name VARCHAR(255) NOT NULL,
          checksum VARCHAR(64) NOT NULL,
          applied_at ${appliedAtType[kind]} NOT NULL
        )`,
        )
        .execute(connection);
      const applied = (
        await sql<AppliedMigration>`SELECT version, name, checksum FROM schema_migrations ORDER BY version`.execute(
          connection,
        )
      ).rows;
      const pending = pendingMigrations(migrations, applied, logger);
      for (const migration of pending) {
        await apply(connection, kind, migration);
        logger.info({ migration: migration.fileName, statements: migration.statements.length }, 'applied migration');
      }
      const version = Math.max(0, ...applied.map((m) => m.version), ...pending.map((m) => m.version));
      logger.info({ version, applied: pending.map((m) => m.fileName) }, 'database schema is up to date');
    } finally {
      await unlock(connection, kind).catch((error: unknown) =>
        logger.warn({ err: error }, 'could not release the migration lock; it is released when the connection closes'),
      );
    }
  });
}

function pendingMigrations(migrations: Migration[], applied: AppliedMigration[], logger: Logger): Migration[] {
  const byVersion = new Map(migrations.map((m) => [m.version, m]));
  for (const row of applied) {
    const migration = byVersion.get(row.version);
    if (!migration) {
      logger.warn({ version: row.version, name: row.name }, 'the database has a migration this release does not know');
      continue;
    }
    if (migration.checksum !== row.checksum) {
      throw new Error(
        `migration ${migration.fileName} was changed after it was applied (checksum ${row.checksum} recorded, ` +
          `${migration.checksum} now); restore the file and put the change in a new migration`,
      );
    }
  }
  const appliedVersions = new Set(applied.map((m) => m.version));
  const latest = Math.max(0, ...applied.map((m) => m.version));
  const pending = migrations.filter((m) => !appliedVersions.has(m.version));
  const late = pending.find((m) => m.version < latest);
  if (late) {
    throw new Error(
      `migration ${late.fileName} is not applied but migration ${latest} already is; renumber it above ${latest}`,
    );
  }
  return pending;
}

async function apply<DB>(connection: Kysely<DB>, kind: DatabaseKind, migration: Migration): Promise<void> {
  const { sql } = kysely();
  const run = async (executor: Kysely<DB>) => {
    const total = migration.statements.length;
    for (const [index, statement] of migration.statements.entries()) {
      try {
        await sql.raw(statement).execute(executor);
      } catch (error) {
        // MySQL commits each DDL statement as it runs, so the earlier ones cannot be rolled back.
        const earlier = index === 1 ? 'statement 1' : `statements 1-${index}`;
        const partial =
          kind === 'mysql' && index > 0
            ? `; ${earlier} stayed applied (MySQL cannot roll back DDL) and must be undone by hand before the next start`
            : '';
        throw new Error(
          `migration ${migration.fileName} failed at statement ${index + 1} of ${total}: ${errorMessage(error)}${partial}`,
          { cause: error },
        );
      }
    }
    await sql`INSERT INTO schema_migrations (version, name, checksum, applied_at)
      VALUES (${migration.version}, ${migration.fileName}, ${migration.checksum}, ${new Date()})`.execute(executor);
  };
  if (kind === 'mysql') await run(connection);
  else await connection.transaction().execute(run);
}

// pg advisory locks are per database, so one fixed key serves every service.
const postgresLockKey = 7_320_513_901;
// MySQL named locks are server-wide: name the lock after the database.
const mysqlLockName = "LEFT(CONCAT('schema_migrations.', DATABASE()), 64)";
const mysqlLockWaitSeconds = 600;

async function lock<DB>(connection: Kysely<DB>, kind: DatabaseKind): Promise<void> {
  const { sql } = kysely();
  if (kind === 'postgres') {
    await sql`SELECT pg_advisory_lock(${sql.lit(postgresLockKey)})`.execute(connection);
  } else if (kind === 'mysql') {
    const { rows } = await sql<{
      acquired: number | null;
    }>`SELECT GET_LOCK(${sql.raw(mysqlLockName)}, ${sql.lit(mysqlLockWaitSeconds)}) AS acquired`.execute(connection);
    if (rows[0]?.acquired !== 1) {
      throw new Error(`another instance has been migrating this database for ${mysqlLockWaitSeconds} s; giving up`);
    }
  }
  // SQLite: one process owns the file, and the migration transaction serialises writers anyway.
}

async function unlock<DB>(connection: Kysely<DB>, kind: DatabaseKind): Promise<void> {
  const { sql } = kysely();
  if (kind === 'postgres') await sql`SELECT pg_advisory_unlock(${sql.lit(postgresLockKey)})`.execute(connection);
  else if (kind === 'mysql') await sql`SELECT RELEASE_LOCK(${sql.raw(mysqlLockName)})`.execute(connection);
}

/**
 * Reads `NNN_description.sql` files, choosing `NNN_description.<kind>.sql` over the portable file
 * where one exists. Misnamed files and clashing versions are errors rather than silently skipped.
 */
export async function readMigrations(migrationsDir: string, kind: DatabaseKind): Promise<Migration[]> {
  let names: string[];
  try {
    names = await readdir(migrationsDir);
  } catch (error) {
    throw new Error(`cannot read migrations folder ${migrationsDir}: ${errorMessage(error)}`, { cause: error });
  }
  const groups = new Map<number, { description: string; portable?: string; override?: string; first: string }>();
  for (const name of names.sort()) {
    if (!name.endsWith('.sql')) continue;
    const match = fileNamePattern.exec(name);
    if (!match) {
      throw new Error(
        `migration file ${name} in ${migrationsDir} is not named NNN_description.sql or NNN_description.<${databaseKinds.join('|')}>.sql`,
      );
    }
    const [, digits = '', description = '', engine] = match;
    const version = Number(digits);
    const group = groups.get(version) ?? { description, first: name };
    groups.set(version, group);
    if (group.description !== description || (!engine && group.portable)) {
      throw new Error(`migrations ${group.first} and ${name} share version ${version}`);
    }
    if (!engine) group.portable = name;
    else if (engine === kind) group.override = name;
  }
  const migrations: Migration[] = [];
  for (const [version, group] of [...groups].sort(([a], [b]) => a - b)) {
    if (!group.portable) {
      throw new Error(
        `migration ${group.first} has no portable ${group.first.replace(/\.[a-z]+\.sql$/, '.sql')} for the other engines`,
      );
    }
    const fileName = group.override ?? group.portable;
    const text = (await readFile(join(migrationsDir, fileName), 'utf8')).replace(/\r\n?/g, '\n');
    migrations.push({
      version,
      fileName,
      checksum: createHash('sha256').update(text).digest('hex'),
      statements: splitStatements(text),
    });
  }
  return migrations;
}

/**
 * Splits a migration into statements at lines that end with `;`. Whole-line `--` comments are dropped
 * (MySQL does not take `--` without a following space as a comment).
 */
export function splitStatements(text: string): string[] {
  const statements: string[] = [];
  let lines: string[] = [];
  const flush = () => {
    const statement = lines.join('\n').trim().replace(/;$/, '').trim();
    if (statement !== '') statements.push(statement);
    lines = [];
  };
  for (const line of text.split(/\r?\n/)) {
    if (line.trimStart().startsWith('--')) continue;
    lines.push(line);
    if (line.trimEnd().endsWith(';')) flush();
  }
  flush();
  return statements;
}
