import type { Compilable, Kysely } from 'kysely';

/**
 * The SQL texts of queries compiled once, with the name each has as a server-side prepared statement.
 * Their texts are few and fixed, so every pooled PostgreSQL or MariaDB connection keeps each one parsed;
 * the other queries (migrations, writes, ad hoc reads) stay unnamed and leave nothing on the server.
 */
const preparedNames = new Map<string, string>();

/** The prepared statement's name for a query compiled once, undefined for any other SQL text. */
export function preparedName(sql: string): string | undefined {
  return preparedNames.get(sql);
}

/**
 * A query built and compiled once, then run with other parameter values: the hot path's point reads
 * pay neither Kysely's query building nor its compiler per call, and the SQL text stays the same, so
 * every engine reuses its statement: SQLite's driver keeps prepared statements by text, and PostgreSQL
 * and MariaDB connections run the text as a prepared statement (see `preparedName`) instead of having
 * the server parse and plan it on each call. The values given at build time only shape the query; each
 * run passes its own, in the order they appear in the SQL.
 */
export function compiledOnce<DB, Row>(
  db: Kysely<DB>,
  query: Compilable<Row>,
): (...parameters: unknown[]) => Promise<Row[]> {
  const compiled = query.compile();
  if (!preparedNames.has(compiled.sql)) preparedNames.set(compiled.sql, `landscape_${preparedNames.size + 1}`);
  return async (...parameters) => {
    if (parameters.length !== compiled.parameters.length) {
      throw new TypeError(
        `the query takes ${compiled.parameters.length} parameters, not ${parameters.length}: ${compiled.sql}`,
      );
    }
    return (await db.executeQuery<Row>({ ...compiled, parameters })).rows;
  };
}
