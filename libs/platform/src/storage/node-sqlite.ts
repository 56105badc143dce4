import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

export interface NodeSqliteOptions {
  /** How long a statement waits for another connection's lock before failing (SQLite busy timeout). */
  busyTimeoutMs: number;
}

/**
 * Presents a `node:sqlite` DatabaseSync as the better-sqlite3-like database that Kysely's SqliteDialect
 * drives: statements take a parameter array and say whether they return rows.
 */
// Enough for every query text the services build (one per shape of query, not per value).
const STATEMENT_CACHE_SIZE = 256;

export class NodeSqliteDatabase implements SqliteDatabase {
  readonly #db: DatabaseSync;
  /**
   * Prepared statements by SQL text, reused: preparing costs more than a point read itself, and every
   * statement left to the garbage collector holds native memory the heap does not see. Kysely runs one
   * query at a time on this one connection, so a statement is never in use twice at once.
   */
  readonly #statements = new Map<string, NodeSqliteStatement>();

  constructor(file: string, options: NodeSqliteOptions) {
    this.#db = new DatabaseSync(file, { timeout: options.busyTimeoutMs, enableForeignKeyConstraints: true });
    if (file !== ':memory:') {
      // The file is this connection's alone (one service's one connection), so it is locked once, when
      // first read and written, instead of at every statement: in WAL mode each autocommit read made
      // two fcntl lock calls and read the shared-memory index (a point read 7.7 µs, against 2.9 µs
      // without). Set before WAL, so no shared-memory index is made at all. Another process that opens
      // the file meanwhile gets "database is locked" instead of writing beside this one.
      this.#db.exec('PRAGMA locking_mode = EXCLUSIVE');
      // WAL: a commit appends to the log instead of rewriting pages through a rollback journal.
      this.#db.exec('PRAGMA journal_mode = WAL');
    }
  }

  prepare(sql: string): SqliteStatement {
    let statement = this.#statements.get(sql);
    if (statement) {
      // Most recently used last, so the first entry is the one to evict.
      this.#statements.delete(sql);
    } else {
      statement = new NodeSqliteStatement(this.#db.prepare(sql));
      if (this.#statements.size >= STATEMENT_CACHE_SIZE)
        this.#statements.delete(this.#statements.keys().next().value as string);
    }
    this.#statements.set(sql, statement);
    return statement;
  }

  /** How many prepared statements are kept for reuse. */
  get cachedStatements(): number {
    return this.#statements.size;
  }

  /** Safe to call twice: Kysely closes it on destroy only if it ever ran a query. */
  close(): void {
    this.#statements.clear();
    if (this.#db.isOpen) this.#db.close();
  }
}

class NodeSqliteStatement implements SqliteStatement {
  readonly reader: boolean;
  readonly #statement: StatementSync;

  constructor(statement: StatementSync) {
    this.#statement = statement;
    this.reader = statement.columns().length > 0;
  }

  // Rows are copied into plain objects: node:sqlite gives null-prototype ones, unlike the other drivers.
  all(parameters: ReadonlyArray<unknown>): unknown[] {
    return this.#statement.all(...bind(parameters)).map((row) => ({ ...row }));
  }

  run(parameters: ReadonlyArray<unknown>): { changes: number | bigint; lastInsertRowid: number | bigint } {
    return this.#statement.run(...bind(parameters));
  }

  *iterate(parameters: ReadonlyArray<unknown>): IterableIterator<unknown> {
    for (const row of this.#statement.iterate(...bind(parameters))) yield { ...row };
  }
}

/**
 * node:sqlite binds only null, numbers, bigints, strings and byte arrays, and would read a leading
 * plain object as named parameters; map the values the other engines accept and refuse the rest.
 */
function bind(parameters: ReadonlyArray<unknown>): SQLInputValue[] {
  return parameters.map((value, index) => {
    if (value === null || typeof value === 'number' || typeof value === 'bigint' || typeof value === 'string')
      return value;
    if (value === undefined) return null;
    if (typeof value === 'boolean') return value ? 1 : 0;
    if (value instanceof Date) return value.toISOString();
    if (ArrayBuffer.isView(value)) return value as NodeJS.ArrayBufferView;
    throw new TypeError(`cannot bind parameter ${index + 1} of type ${typeof value} to a SQLite statement`);
  });
}
