import type { Compilable, Kysely } from 'kysely';

/**
 * A query built and compiled once, then run with other parameter values: the hot path's point reads
 * pay neither Kysely's query building nor its compiler per call, and the SQL text stays the same, so a
 * driver that keeps prepared statements by text (the SQLite one) reuses its statement. The values given
 * at build time only shape the query; each run passes its own, in the order they appear in the SQL.
 */
export function compiledOnce<DB, Row>(
  db: Kysely<DB>,
  query: Compilable<Row>,
): (...parameters: unknown[]) => Promise<Row[]> {
  const compiled = query.compile();
  return async (...parameters) => {
    if (parameters.length !== compiled.parameters.length) {
      throw new TypeError(
        `the query takes ${compiled.parameters.length} parameters, not ${parameters.length}: ${compiled.sql}`,
      );
    }
    return (await db.executeQuery<Row>({ ...compiled, parameters })).rows;
  };
}
