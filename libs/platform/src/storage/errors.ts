/** How a database error is to be taken, whichever engine and driver raised it. */

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** The error and its causes (drivers and wrappers nest them), a few levels deep. */
function* chain(error: unknown): Generator<Record<string, unknown>> {
  for (let e: unknown = error, depth = 0; isObject(e) && depth < 5; e = e['cause'], depth++) yield e;
}

// SQLite extended result codes of a UNIQUE or PRIMARY KEY constraint.
const SQLITE_UNIQUE = new Set([2067, 1555]);

/** True when the error is a unique or primary key violation, whichever engine raised it. */
export function isUniqueViolation(error: unknown): boolean {
  for (const e of chain(error)) {
    if (e['code'] === '23505') return true; // PostgreSQL unique_violation
    if (e['code'] === 'ER_DUP_ENTRY' || e['errno'] === 1062) return true; // MySQL / MariaDB
    if (e['code'] === 'ERR_SQLITE_ERROR' && SQLITE_UNIQUE.has(e['errcode'] as number)) return true;
  }
  return false;
}

// MySQL / MariaDB errors about a value the row carries.
const MYSQL_DATA_ERRORS = new Set([
  1048, // ER_BAD_NULL_ERROR
  1264, // ER_WARN_DATA_OUT_OF_RANGE
  1265, // WARN_DATA_TRUNCATED
  1292, // ER_TRUNCATED_WRONG_VALUE
  1366, // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD, "Incorrect string value" included
  1367, // ER_ILLEGAL_VALUE_FOR_TYPE
  1406, // ER_DATA_TOO_LONG
  1416, // ER_CANT_CREATE_GEOMETRY_OBJECT
  1451, // ER_ROW_IS_REFERENCED_2
  1452, // ER_NO_REFERENCED_ROW_2
  1690, // ER_DATA_OUT_OF_RANGE
  3819, // ER_CHECK_CONSTRAINT_VIOLATED (MySQL)
  4025, // ER_CONSTRAINT_FAILED (MariaDB's CHECK)
]);

// SQLite primary result codes about the data: SQLITE_TOOBIG, SQLITE_CONSTRAINT, SQLITE_MISMATCH.
const SQLITE_DATA_ERRORS = new Set([18, 19, 20]);

/**
 * True when the database refused a value the statement carried (PostgreSQL SQLSTATE class 22 data
 * exception or 23 integrity constraint violation, MySQL's value errors, SQLite's constraint, size and
 * type errors): the same row would be refused again, so it is the fault of whatever supplied it. A
 * unique violation is left out, because callers decide whether a duplicate is a replay or a conflict;
 * connection failures and errors in the statement itself are not data errors either.
 */
export function isDataError(error: unknown): boolean {
  if (isUniqueViolation(error)) return false;
  for (const e of chain(error)) {
    const code = e['code'];
    // pg's DatabaseError carries the SQLSTATE; connection errors carry Node codes such as ECONNREFUSED.
    if (typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code)) return true;
    if (typeof e['sqlState'] === 'string' && typeof e['errno'] === 'number' && MYSQL_DATA_ERRORS.has(e['errno']))
      return true;
    if (code === 'ERR_SQLITE_ERROR' && typeof e['errcode'] === 'number' && SQLITE_DATA_ERRORS.has(e['errcode'] & 0xff))
      return true;
  }
  return false;
}
