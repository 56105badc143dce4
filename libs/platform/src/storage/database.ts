import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Dialect, Kysely } from 'kysely';
import { createRequire } from 'node:module';
import type { ConnectionOptions } from 'mysql2/promise';
import type pg from 'pg';
import type { Logger } from 'pino';
import { describeTarget, serverSettings, sqliteFile, type DatabaseConfig, type ServerSettings } from './config.ts';
import { preparedName } from './compiled.ts';
import { NodeSqliteDatabase } from './node-sqlite.ts';
import { errorMessage } from '../errors.ts';
import { withTimeout } from '../timing.ts';
import { tlsOptions } from '../tls.ts';
import { queryTracer } from '../tracing/database.ts';
import type { Tracing } from '../tracing/tracing.ts';

// Each engine's driver is loaded when a database of its kind is first used: a process keeps only the one
// it talks to (the all-in-one process none), and every driver costs megabytes of resident code. Kysely
// itself waits for the first database too, so a service without one (the composite) never loads it.
const require = createRequire(import.meta.url);
export const kysely = () => require('kysely') as typeof import('kysely');
const drivers = {
  pg: () => require('pg') as typeof pg,
  mysql: () => require('mysql2') as typeof import('mysql2'),
  mysqlPromise: () => require('mysql2/promise') as typeof import('mysql2/promise'),
};

export interface Database<DB> {
  kind: DatabaseConfig['kind'];
  db: Kysely<DB>;
  /** A `select 1` bounded by connectTimeoutMs; rejects with a message naming the database. */
  ping(): Promise<void>;
  /** The connection pool's counts now; undefined for SQLite, which has none. */
  pool(): PoolStats | undefined;
  close(): Promise<void>;
}

export interface PoolStats {
  max: number;
  total: number;
  idle: number;
  waiting: number;
}

/** mysql2 keeps its pool's counts in fields its types do not declare. */
interface MysqlPoolInternals {
  _allConnections?: { length: number };
  _freeConnections?: { length: number };
  _connectionQueue?: { length: number };
}

/**
 * Opens a connection pool (or the SQLite file) for the configured engine. Server connections are
 * made on first use; a missing setting throws at once, naming the key.
 */
export function openDatabase<DB>(
  config: DatabaseConfig,
  options: { logger?: Logger; tracing?: Tracing } = {},
): Database<DB> {
  const target = describeTarget(config);
  const { dialect, closeFile, pool } = createDialect(config, target, options.logger);
  const log = options.tracing && queryTracer(options.tracing, config);
  const { Kysely, sql } = kysely();
  const db = new Kysely<DB>({ dialect, ...(log ? { log } : {}) });
  return {
    kind: config.kind,
    db,
    pool: () => pool?.(),
    async ping() {
      // A plain timer rather than Kysely's abort signal, which reports late failures on console.error.
      try {
        await withTimeout(
          sql`select 1`.execute(db),
          config.connectTimeoutMs,
          () => new PingTimeout(config.connectTimeoutMs),
        );
      } catch (error) {
        const reason = isTimeout(error) ? `no answer within ${config.connectTimeoutMs} ms` : errorMessage(error);
        throw new Error(`${target} is unreachable: ${reason}`, { cause: error });
      }
    },
    async close() {
      try {
        await db.destroy();
      } catch (error) {
        // A connection that was still failing to connect reports its error here; the pool is closed all the same.
        options.logger?.warn({ err: error }, `closing ${target} reported an error`);
      } finally {
        closeFile?.();
      }
    },
  };
}

function createDialect(
  config: DatabaseConfig,
  target: string,
  logger: Logger | undefined,
): { dialect: Dialect; closeFile?: () => void; pool?: () => PoolStats } {
  switch (config.kind) {
    case 'postgres': {
      const pool = new (drivers.pg().Pool)({
        ...postgresOptions(config, serverSettings(config)),
        max: config.poolSize,
        Client: preparingPgClient(),
      });
      // An idle connection dropped by the server must not crash the process; the next query reports it.
      pool.on('error', (error) => logger?.warn({ err: error }, `idle connection to ${target} failed`));
      return {
        dialect: new (kysely().PostgresDialect)({ pool }),
        pool: () => ({
          max: config.poolSize,
          total: pool.totalCount,
          idle: pool.idleCount,
          waiting: pool.waitingCount,
        }),
      };
    }
    case 'mysql': {
      const pool = drivers
        .mysql()
        .createPool({ ...mysqlOptions(config, serverSettings(config)), connectionLimit: config.poolSize });
      const internals = pool as unknown as MysqlPoolInternals;
      return {
        dialect: new (kysely().MysqlDialect)({ pool: preparingMysqlPool(pool) }),
        pool: () => ({
          max: config.poolSize,
          total: internals._allConnections?.length ?? 0,
          idle: internals._freeConnections?.length ?? 0,
          waiting: internals._connectionQueue?.length ?? 0,
        }),
      };
    }
    case 'sqlite': {
      const file = sqliteFile(config);
      let sqlite: NodeSqliteDatabase;
      try {
        sqlite = new NodeSqliteDatabase(file, { busyTimeoutMs: config.connectTimeoutMs });
      } catch (error) {
        throw new Error(`cannot open ${target}: ${errorMessage(error)} (ensureDatabase creates its folder)`, {
          cause: error,
        });
      }
      // Kysely closes the file only if it ran a query; close() makes sure it is closed either way.
      return { dialect: new (kysely().SqliteDialect)({ database: sqlite }), closeFile: () => sqlite.close() };
    }
  }
}

/**
 * pg's client, except that a query compiled once (Kysely runs every query as `query(text, values)`)
 * goes as a named statement, which each connection parses once and then only binds and executes.
 */
function preparingPgClient(): typeof pg.Client {
  const { Client } = drivers.pg();
  return class PreparingClient extends Client {
    // biome-ignore lint/suspicious/noExplicitAny: pg's overloads, passed through as they came
    override query(config: any, values?: any, callback?: any): any {
      const name = typeof config === 'string' ? preparedName(config) : undefined;
      return name === undefined || !Array.isArray(values)
        ? super.query(config, values, callback)
        : super.query({ name, text: config, values }, callback);
    }
  };
}

/**
 * mysql2's pool, except that on the connections it lends a query compiled once runs through `execute`:
 * the connection prepares its text once and then sends only the values, in the binary protocol.
 */
function preparingMysqlPool(pool: import('mysql2').Pool): import('kysely').MysqlPool {
  const preparing = new WeakSet<object>();
  const lend = (connection: import('mysql2').PoolConnection) => {
    if (preparing.has(connection)) return connection;
    preparing.add(connection);
    const query = connection.query.bind(connection) as (...args: unknown[]) => unknown;
    const execute = connection.execute.bind(connection) as (...args: unknown[]) => unknown;
    // Connections are lent again and again; each is given the switch once, on its first loan.
    connection.query = ((sql: unknown, values: unknown, callback: unknown) =>
      typeof sql === 'string' && Array.isArray(values) && typeof callback === 'function' && preparedName(sql)
        ? execute(sql, values, callback)
        : query(sql, values, callback)) as typeof connection.query;
    return connection;
  };
  // Kysely asks a pool for no more than these two.
  return {
    getConnection: (callback) =>
      pool.getConnection((error, connection) => callback(error, connection && lend(connection))),
    end: (callback) => pool.end(callback),
  };
}

// Integer columns come back as JS numbers on every engine: pg returns int8 (count(*), bigint) as text.
const INT8_OID = 20;
const pgTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? parseInt8
      : drivers.pg().types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`integer ${text} does not fit a JavaScript number`);
  return value;
}

/** Where and as whom to connect, in the names both drivers use. */
function serverOptions(settings: ServerSettings) {
  return {
    host: settings.host,
    port: settings.port,
    database: settings.database,
    user: settings.username,
    ...(settings.password !== undefined ? { password: settings.password } : {}),
  };
}

/** TLS options of a server connection, or nothing when database.tls is off. */
function sslOption(config: DatabaseConfig, settings: ServerSettings) {
  const ssl = tlsOptions(config.tls, settings.host, 'database.tls');
  return ssl !== undefined ? { ssl } : {};
}

export function postgresOptions(config: DatabaseConfig, settings: ServerSettings): pg.ClientConfig {
  return {
    ...serverOptions(settings),
    ...sslOption(config, settings),
    connectionTimeoutMillis: config.connectTimeoutMs,
    types: pgTypes,
  };
}

export function mysqlOptions(config: DatabaseConfig, settings: ServerSettings): ConnectionOptions {
  return {
    ...serverOptions(settings),
    ...sslOption(config, settings),
    connectTimeout: config.connectTimeoutMs,
    // BIGINT (count(*) included) as a number, like the other engines; dates stored and read as UTC.
    supportBigNumbers: false,
    bigNumberStrings: false,
    timezone: 'Z',
    charset: 'utf8mb4',
  };
}

/**
 * Creates the configured database if it does not exist yet (for SQLite, the folder of its file).
 * When the configured user may not create it, the error says what an administrator has to create.
 */
export async function ensureDatabase(config: DatabaseConfig, logger: Logger): Promise<void> {
  switch (config.kind) {
    case 'postgres':
      return ensurePostgres(config, serverSettings(config), logger);
    case 'mysql':
      return ensureMysql(config, serverSettings(config), logger);
    case 'sqlite': {
      const file = sqliteFile(config);
      if (file === ':memory:') return;
      const folder = dirname(resolve(file));
      try {
        await mkdir(folder, { recursive: true });
      } catch (error) {
        throw new Error(
          `cannot create folder ${folder} for ${describeTarget(config)}: ${errorMessage(error)}; create it and make it writable`,
          { cause: error },
        );
      }
    }
  }
}

async function ensurePostgres(config: DatabaseConfig, settings: ServerSettings, logger: Logger): Promise<void> {
  const options = postgresOptions(config, settings);
  const askAdmin = `ask an administrator to run: CREATE DATABASE ${quotePg(settings.database)} OWNER ${quotePg(settings.username)};`;
  try {
    await withPgClient(options, async () => {});
    return;
  } catch (error) {
    if (errorCode(error) !== '3D000') throw cannotConnect(config, error); // 3D000 invalid_catalog_name: it does not exist
  }
  try {
    await withPgClient({ ...options, database: 'postgres' }, async (client) => {
      await client.query(`CREATE DATABASE ${quotePg(settings.database)}`);
    });
    logger.info({ database: settings.database }, 'created database');
  } catch (error) {
    const code = errorCode(error);
    // Another instance created it at the same moment.
    if (code === '42P04' || code === '23505') return;
    throw new Error(
      `${describeTarget(config)} does not exist and user ${settings.username} cannot create it (${errorMessage(error)}); ${askAdmin}`,
      { cause: error },
    );
  }
}

async function withPgClient(options: pg.ClientConfig, use: (client: pg.Client) => Promise<void>): Promise<void> {
  const client = new (drivers.pg().Client)(options);
  // A dropped connection fails the pending call; without a listener it would crash the process.
  client.on('error', () => {});
  await client.connect();
  try {
    await use(client);
  } finally {
    await client.end();
  }
}

async function ensureMysql(config: DatabaseConfig, settings: ServerSettings, logger: Logger): Promise<void> {
  const options = mysqlOptions(config, settings);
  try {
    const connection = await drivers.mysqlPromise().createConnection(options);
    await connection.end();
    return;
  } catch (error) {
    // ER_BAD_DB_ERROR, or ER_DBACCESS_DENIED_ERROR, which MySQL also answers for a database that does not exist.
    const errno = errorNumber(error);
    if (errno !== 1049 && errno !== 1044) throw cannotConnect(config, error);
  }
  const { database: _database, ...serverOnly } = options;
  const name = quoteMysql(settings.database);
  try {
    const connection = await drivers.mysqlPromise().createConnection(serverOnly);
    try {
      const [result] = await connection.query(`CREATE DATABASE IF NOT EXISTS ${name} CHARACTER SET utf8mb4`);
      if (isObject(result) && result['warningStatus'] === 0)
        logger.info({ database: settings.database }, 'created database');
    } finally {
      await connection.end();
    }
  } catch (error) {
    const user = `'${settings.username.replaceAll("'", "''")}'@'%'`;
    throw new Error(
      `${describeTarget(config)} does not exist and user ${settings.username} cannot create it (${errorMessage(error)}); ` +
        `ask an administrator to run: CREATE DATABASE ${name} CHARACTER SET utf8mb4; GRANT ALL PRIVILEGES ON ${name}.* TO ${user};`,
      { cause: error },
    );
  }
}

function cannotConnect(config: DatabaseConfig, error: unknown): Error {
  return new Error(`cannot connect to ${describeTarget(config)}: ${errorMessage(error)}`, { cause: error });
}

const quotePg = (name: string) => `"${name.replaceAll('"', '""')}"`;
const quoteMysql = (name: string) => `\`${name.replaceAll('`', '``')}\``;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function errorCode(error: unknown): unknown {
  return isObject(error) ? error['code'] : undefined;
}

function errorNumber(error: unknown): unknown {
  return isObject(error) ? error['errno'] : undefined;
}

class PingTimeout extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

function isTimeout(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; isObject(e) && depth < 5; e = e['cause'], depth++) {
    if (e['name'] === 'TimeoutError' || e['code'] === 'ETIMEDOUT') return true;
  }
  return false;
}
