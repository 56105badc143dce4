import { tmpdir } from 'node:os';
import { relative, resolve, isAbsolute } from 'node:path';
import { Type, type Static } from '@landscape/vendor/typebox';
import { tlsConfigSchema } from '../tls.ts';

export const databaseConfigSchema = Type.Object({
  // Spelled out: a Union over a mapped array loses the literal types.
  kind: Type.Union([Type.Literal('postgres'), Type.Literal('mysql'), Type.Literal('sqlite')]),
  host: Type.Optional(Type.String({ minLength: 1 })),
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  database: Type.Optional(Type.String({ minLength: 1 })),
  username: Type.Optional(Type.String({ minLength: 1 })),
  /** A credential: no default, set through the environment only. */
  password: Type.Optional(Type.String()),
  /** SQLite file path; ':memory:' for a private in-memory database. */
  file: Type.Optional(Type.String({ minLength: 1 })),
  poolSize: Type.Integer({ minimum: 1, default: 10 }),
  connectTimeoutMs: Type.Integer({ minimum: 1, default: 5000 }),
  /** TLS to the server (postgres, mysql); on in the prod profile. */
  tls: Type.Optional(tlsConfigSchema),
});

export type DatabaseConfig = Static<typeof databaseConfigSchema>;
export type DatabaseKind = DatabaseConfig['kind'];

export const databaseKinds: readonly DatabaseKind[] = ['postgres', 'mysql', 'sqlite'];

const defaultPort = (config: DatabaseConfig) => (config.kind === 'mysql' ? 3306 : 5432);

export interface ServerSettings {
  host: string;
  port: number;
  database: string;
  username: string;
  password: string | undefined;
}

/** The settings a server database cannot do without, or an error naming the first missing key. */
export function serverSettings(config: DatabaseConfig): ServerSettings {
  return {
    host: required(config, 'host'),
    port: config.port ?? defaultPort(config),
    database: required(config, 'database'),
    username: required(config, 'username'),
    password: config.password,
  };
}

export function sqliteFile(config: DatabaseConfig): string {
  return required(config, 'file');
}

function required(config: DatabaseConfig, key: 'host' | 'database' | 'username' | 'file'): string {
  const value = config[key];
  if (value === undefined || value === '') throw new Error(`database.${key} is required for ${config.kind}`);
  return value;
}

/** Where a database lives, for messages: `host:port/name` or the SQLite file. */
export function describeTarget(config: DatabaseConfig): string {
  if (config.kind === 'sqlite') return `sqlite ${config.file ?? '(no file)'}`;
  const port = config.port ?? defaultPort(config);
  return `${config.kind} ${config.host ?? '(no host)'}:${port}/${config.database ?? '(no database)'}`;
}

/**
 * Guard for tests that create, drop or wipe databases: only a database whose name ends with `_test`,
 * an in-memory SQLite database or a SQLite file under the OS temp folder may be touched.
 */
export function assertTestDatabase(config: DatabaseConfig): void {
  if (config.kind === 'sqlite') {
    const file = config.file;
    if (file === ':memory:') return;
    if (file !== undefined && isInside(resolve(file), resolve(tmpdir()))) return;
    throw new Error(
      `refusing to use sqlite database ${file ?? '(no file)'} in a test: use ':memory:' or a file under ${tmpdir()}`,
    );
  }
  const name = config.database ?? '';
  if (name.endsWith('_test') && name.length > '_test'.length) return;
  throw new Error(
    `refusing to use ${config.kind} database "${name}" in a test: test database names must end with _test`,
  );
}

function isInside(path: string, folder: string): boolean {
  const rel = relative(folder, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}
