export { assertTestDatabase, databaseConfigSchema, type DatabaseConfig, type DatabaseKind } from './config.ts';
export { ensureDatabase, openDatabase, type Database, type PoolStats } from './database.ts';
export { isDataError, isUniqueViolation } from './errors.ts';
export { migrate } from './migrate.ts';
export { compiledOnce } from './compiled.ts';
