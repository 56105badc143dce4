export { assertTestDatabase, databaseConfigSchema, type DatabaseConfig, type DatabaseKind } from './config.ts';
export { ensureDatabase, isUniqueViolation, openDatabase, type Database } from './database.ts';
export { migrate } from './migrate.ts';
