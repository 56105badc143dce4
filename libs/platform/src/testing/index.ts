import { Agent as HttpAgent, get as httpGet } from 'node:http';
import { Agent, get } from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import pg from 'pg';
import mysql from 'mysql2/promise';
import type { Logger } from 'pino';
import { createLogger } from '../log.ts';
import { createInProcessBus, type EventBus, type MessagingConfig } from '../messaging/index.ts';
import type { RunningService, ServiceConfig } from '../runtime.ts';
import { assertTestDatabase, ensureDatabase, type DatabaseConfig } from '../storage/index.ts';

/** The repository's config-repo, which service tests load so they exercise the real configuration. */
export const configRepo = resolve(import.meta.dirname, '../../../../config-repo');

export type Engine = 'sqlite' | 'postgres' | 'mysql';

/**
 * Environment overrides that point a service at a test database on this machine's servers (or an
 * in-memory SQLite), with the in-process bus, a free port and quiet logs. Names end in `_test` so the
 * storage guard lets them be dropped and recreated.
 */
export function testEnv(service: string, engine: Engine, extra: Record<string, string> = {}): Record<string, string> {
  const database: Record<Engine, Record<string, string>> = {
    sqlite: { DATABASE_KIND: 'sqlite', DATABASE_FILE: ':memory:' },
    postgres: {
      DATABASE_KIND: 'postgres',
      DATABASE_HOST: '127.0.0.1',
      DATABASE_PORT: '5432',
      DATABASE_USERNAME: 'postgres',
    },
    mysql: { DATABASE_KIND: 'mysql', DATABASE_HOST: '127.0.0.1', DATABASE_PORT: '3306', DATABASE_USERNAME: 'root' },
  };
  return {
    CONFIG_LOCATION: configRepo,
    SERVER_PORT: '0',
    SERVER_HOST: '127.0.0.1',
    LOGGING_LEVEL: 'silent',
    MESSAGING_KIND: 'in-process',
    MESSAGING_RABBITMQ_HOST: '127.0.0.1',
    MESSAGING_RABBITMQ_PASSWORD: 'guest',
    // Poison events are still tried three times, only faster.
    MESSAGING_RETRY_INITIAL_INTERVAL_MS: '20',
    MESSAGING_RETRY_MAX_INTERVAL_MS: '40',
    DATABASE_DATABASE: testDatabaseName(service),
    ...database[engine],
    ...extra,
  };
}

/**
 * A test database's name: `landscape_<base>[_<LANDSCAPE_TEST_TAG>]_test`, so two checkouts running tests on
 * one machine at once keep to databases of their own.
 */
export function testDatabaseName(base: string): string {
  const tag = process.env.LANDSCAPE_TEST_TAG;
  return `landscape_${base}${tag ? `_${tag}` : ''}_test`;
}

/**
 * Drops and recreates a test database so every run starts empty. Refuses any database whose name does
 * not mark it as a test database.
 */
export async function resetTestDatabase(config: DatabaseConfig, logger: Logger): Promise<void> {
  assertTestDatabase(config);
  const name = config.database ?? '';
  if (config.kind === 'postgres') {
    const client = new pg.Client({
      host: config.host,
      port: config.port,
      user: config.username,
      password: config.password,
      database: 'postgres',
    });
    await client.connect();
    try {
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    } finally {
      await client.end();
    }
  } else if (config.kind === 'mysql') {
    const connection = await mysql.createConnection({
      host: config.host,
      port: config.port,
      user: config.username,
      password: config.password ?? '',
    });
    try {
      await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
    } finally {
      await connection.end();
    }
  }
  await ensureDatabase(config, logger);
}

export interface TestService {
  service: RunningService;
  get(path: string): Promise<{ status: number; body: Record<string, unknown> & { length?: number } }>;
  publish(...payloads: unknown[]): Promise<void>;
  deadLetters(): Array<{ payload: unknown; reason: string }>;
  stop(): Promise<void>;
}

/**
 * Starts a service on a fresh test database of the given engine with its own in-process bus, the way
 * its own process would (configuration from config-repo, migrations, consumers, HTTP on a free port).
 */
export async function startForTest(
  definition: {
    name: string;
    loadConfig(env: Record<string, string>): ServiceConfig & { messaging: MessagingConfig };
    start(
      config: ServiceConfig & { messaging: MessagingConfig },
      options: { bus: EventBus; logger: Logger },
    ): Promise<RunningService>;
  },
  engine: Engine,
  queue: { destination: string; group: string },
  extra: Record<string, string> = {},
): Promise<TestService> {
  const logger = createLogger(`${definition.name}-test`, 'silent');
  const config = definition.loadConfig(testEnv(definition.name, engine, extra));
  if (config.database && config.database.kind !== 'sqlite') await resetTestDatabase(config.database, logger);
  const bus = createInProcessBus(config.messaging, logger);
  const service = await definition.start(config, { bus, logger });
  return {
    service,
    async get(path) {
      const response = await fetch(`${service.url}${path}`);
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
    publish: (...payloads) => bus.publish(payloads.map((payload) => ({ destination: queue.destination, payload }))),
    deadLetters: () => bus.deadLetters(queue.destination, queue.group),
    async stop() {
      await service.close();
      await bus.close();
    },
  };
}
export { brokerAdmin, rabbitmqctl } from '../messaging/test-support.ts';
export { assertContractError } from './contract.ts';
export { eventually, type EventuallyOptions } from './eventually.ts';
export { modulesLoadedBy, packagesLoadedBy } from './modules.ts';
export { AUDIENCE, ISSUER, signAt, startTestIssuer, type TestIssuer } from '../auth/test-issuer.ts';

/** A port nothing listens on right now, for a server a test must name before it starts. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolvePort(port));
    });
  });
}

export interface LoadResult {
  answered: number;
  failed: number;
  refused: number;
}

/**
 * HTTPS (or, with `tls: false`, plain HTTP) clients that each keep one connection alive and send the next request as soon as the last is
 * answered, for testing a graceful shutdown. A client stops when it is told `Connection: close` or a new
 * connection is refused (nothing was sent); a request that was sent and got no answer is a failure.
 */
export function keepAliveLoad(options: {
  clients: number;
  port: number;
  path: string;
  headers?: Record<string, string>;
  tls?: boolean;
}) {
  const plain = options.tls === false;
  const result: LoadResult = { answered: 0, failed: 0, refused: 0 };
  const errors: string[] = [];
  const runs = Array.from(
    { length: options.clients },
    () =>
      new Promise<void>((done) => {
        const agent = plain
          ? new HttpAgent({ keepAlive: true, maxSockets: 1 })
          : new Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
        const stop = () => {
          agent.destroy();
          done();
        };
        const next = () => {
          (plain ? httpGet : get)(
            {
              host: '127.0.0.1',
              port: options.port,
              path: options.path,
              headers: { host: 'localhost', ...options.headers },
              agent,
            },
            (response) => {
              response.resume();
              response.on('end', () => {
                result.answered++;
                if (response.headers.connection === 'close') stop();
                else next();
              });
              response.on('error', (error) => {
                result.failed++;
                errors.push(error.message);
                stop();
              });
            },
          ).on('error', (error: NodeJS.ErrnoException) => {
            if (error.code === 'ECONNREFUSED') result.refused++;
            else {
              result.failed++;
              errors.push(`${error.code ?? ''} ${error.message}`);
            }
            stop();
          });
        };
        next();
      }),
  );
  return { result, errors, finished: Promise.all(runs).then(() => result) };
}
export {
  assertServiceMetrics,
  parsePrometheusText,
  requestCount,
  scrape,
  type Sample,
  type Scrape,
} from './metrics.ts';
