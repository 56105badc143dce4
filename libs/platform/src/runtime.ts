import type { Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { Type, type Static, type TSchema } from 'typebox';
import type { Logger } from 'pino';
import { ConfigError, loadConfig } from './config.ts';
import { errorMessage } from './errors.ts';
import { createLogger } from './log.ts';
import { Health } from './health.ts';
import {
  createBus,
  messagingConfigSchema,
  type EventBus,
  type EventHandler,
  type MessagingConfig,
} from './messaging/index.ts';
import {
  consumerMetrics,
  databasePoolMetrics,
  Metrics,
  metricsConfigSchema,
  type MetricsConfig,
} from './metrics/index.ts';
import { ensureDatabase, migrate, openDatabase, type Database, type DatabaseConfig } from './storage/index.ts';
import { createTracing, tracedBus, tracingConfigSchema, type Tracing, type TracingConfig } from './tracing/index.ts';

export const serverConfigSchema = Type.Object(
  {
    port: Type.Integer({ minimum: 0, maximum: 65535 }),
    /**
     * `::` is every interface over IPv4 and IPv6 (what a pod needs); `localhost` is the loopback of both
     * IP versions, 127.0.0.1 and ::1, whatever /etc/hosts says.
     */
    host: Type.String({ default: '::' }),
    shutdownTimeoutMs: Type.Integer({ minimum: 0, default: 10000 }),
  },
  { default: {} },
);

export const loggingConfigSchema = Type.Object(
  {
    level: Type.Union(
      [
        Type.Literal('fatal'),
        Type.Literal('error'),
        Type.Literal('warn'),
        Type.Literal('info'),
        Type.Literal('debug'),
        Type.Literal('trace'),
        Type.Literal('silent'),
      ],
      { default: 'info' },
    ),
  },
  { default: {} },
);

/** The keys every service's configuration has; a service's schema spreads these and adds its own. */
export const serviceConfigProperties = {
  server: serverConfigSchema,
  logging: loggingConfigSchema,
  messaging: messagingConfigSchema,
  metrics: metricsConfigSchema,
  tracing: tracingConfigSchema,
};

/** Credentials: config files may not hold them, only the environment (Kubernetes Secrets). */
export const secretKeys = [
  'database.password',
  'messaging.rabbitmq.password',
  'auth.clientSecrets',
  'auth.userPasswords',
  'auth.keys.jwks',
  'auth.cookies.keys',
  'auth.store.redis.password',
] as const;

export interface RunningService {
  name: string;
  port: number;
  url: string;
  close(): Promise<void>;
}

export interface Subscription {
  destination: string;
  group: string;
  handler: EventHandler;
}

/** What a service's buildApp returns: its HTTP app (not listening) and the events it consumes. */
export interface Built {
  app: FastifyInstance;
  subscriptions?: Subscription[];
  /** Resources of the app's own to release after it stopped (HTTP client pools, say). */
  close?: () => Promise<void>;
}

export interface ServiceDeps<DB> {
  database: Database<DB> | undefined;
  bus: EventBus;
  logger: Logger;
  /** `host/ip:port` of this instance, known once it listens. */
  serviceAddress: () => string;
  /** To register more health parts (a circuit breaker, say). */
  health: Health;
  /** This service's instruments; createHttpApp serves them at /actuator/prometheus. */
  metrics: Metrics;
  /** The service's tracer, for spans of its own outgoing calls. */
  tracing: Tracing;
}

export interface ServiceSpec<DB> {
  name: string;
  config: ServiceConfig;
  logger: Logger;
  /** Numbered SQL migrations applied before the service takes traffic. */
  migrationsDir?: string;
  /** A bus owned by the caller (the all-in-one process shares one); otherwise the service opens its own. */
  bus?: EventBus;
  /** The name its spans carry (OTEL_SERVICE_NAME in a process of its own); the service's name otherwise. */
  traceName?: string;
  build(deps: ServiceDeps<DB>): Built | Promise<Built>;
}

/**
 * Opens the service's database (migrated) and bus, wires health, builds its routes and consumers and
 * listens. Every resource it opened is closed by the returned close(), in reverse order.
 */
export async function startService<DB>(spec: ServiceSpec<DB>): Promise<RunningService> {
  const { config, logger } = spec;
  const health = new Health();
  const metrics = new Metrics(config.metrics ?? { enabled: true });
  const closers: Array<() => Promise<void>> = [];
  // Reverse order: HTTP finishes its in-flight requests, then consumers their messages, then the database closes.
  const close = async () => {
    health.stopAccepting();
    for (const closer of closers.splice(0).reverse()) await closer();
  };
  const tracing = createTracing(spec.traceName ?? spec.name, config.tracing);
  // Last of all, so the spans of the shutdown itself are exported too.
  closers.push(() => tracing.shutdown());
  try {
    let database: Database<DB> | undefined;
    if (config.database) {
      await ensureDatabase(config.database, logger);
      const db = openDatabase<DB>(config.database, { logger, tracing });
      database = db;
      closers.push(() => db.close());
      if (spec.migrationsDir) await migrate(db, spec.migrationsDir, logger);
      databasePoolMetrics(metrics, db, spec.name);
      health.add({
        name: 'db',
        readiness: true,
        check: async () => {
          await db.ping();
          return { status: 'UP', details: { database: db.kind } };
        },
      });
    }
    const ownBus = spec.bus ?? (await createBus(config.messaging, logger));
    if (!spec.bus) closers.push(() => ownBus.close());
    health.add({ name: 'messaging', readiness: true, check: () => ownBus.health() });
    const bus = tracedBus(ownBus, tracing, config.messaging.kind);

    let address = '';
    const built = await spec.build({ database, bus, logger, health, metrics, tracing, serviceAddress: () => address });
    const app = built.app;
    if (built.close) closers.push(built.close);
    const observe = consumerMetrics(metrics);
    for (const s of built.subscriptions ?? [])
      await bus.subscribe(s.destination, s.group, s.handler, observe(s.destination, s.group));

    const loopback = config.server.host === 'localhost';
    await app.listen({ port: config.server.port, host: loopback ? '127.0.0.1' : config.server.host, ipv6Only: false });
    closers.push(() => app.close());
    const bound = app.server.address();
    const port = typeof bound === 'object' && bound !== null ? bound.port : config.server.port;
    if (loopback) {
      const ipv6 = await alsoListen(app.server, '::1', port, logger);
      if (ipv6) closers.push(ipv6);
    }
    address = serviceAddress(port);
    logger.info({ port }, `${spec.name} started`);
    return { name: spec.name, port, url: `http://127.0.0.1:${port}`, close };
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}

/**
 * Accepts connections on another address for the same HTTP server: they become that server's own
 * connections, so its timeouts, parser limits and draining on close apply to them alike. A machine
 * without IPv6 keeps the IPv4 listener alone. The returned function stops accepting there.
 */
async function alsoListen(
  server: Server,
  host: string,
  port: number,
  logger: Logger,
): Promise<(() => Promise<void>) | undefined> {
  const extra = createNetServer((socket) => server.emit('connection', socket));
  try {
    await new Promise<void>((done, fail) => {
      extra.once('error', fail);
      extra.listen({ host, port }, () => done());
    });
  } catch (error) {
    logger.warn({ err: error, host, port }, `not listening on ${host}`);
    return undefined;
  }
  // Stop accepting only: the connections belong to the HTTP server, whose close drains them.
  return async () => {
    extra.close();
  };
}

/** The `hostname/ip:port` a response carries so callers can see which instance answered. */
export function serviceAddress(port: number): string {
  const ip =
    Object.values(networkInterfaces())
      .flat()
      .find((i) => i !== undefined && i.family === 'IPv4' && !i.internal)?.address ?? '127.0.0.1';
  return `${hostname()}/${ip}:${port}`;
}

/**
 * Runs started services until SIGTERM or SIGINT, then closes them within the shutdown timeout.
 * A failure to start (bad configuration, a failed migration) exits with status 1 and a clear line.
 */
export async function runUntilSignal(
  logger: Logger,
  start: () => Promise<{ services: Array<{ close(): Promise<void> }>; shutdownTimeoutMs: number }>,
): Promise<void> {
  let services: Array<{ close(): Promise<void> }>;
  let shutdownTimeoutMs: number;
  try {
    ({ services, shutdownTimeoutMs } = await start());
  } catch (error) {
    logger.fatal({ err: error instanceof ConfigError ? undefined : error }, `start-up failed: ${errorMessage(error)}`);
    // Parts that did start (an all-in-one landscape whose edge port is taken) must not keep the process up.
    process.exit(1);
    return;
  }
  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error('shutdown timed out');
      process.exit(1);
    }, shutdownTimeoutMs);
    timer.unref();
    // In the order given, so a caller can stop a shared bus before the databases its handlers use.
    services
      .reduce((done, s) => done.then(() => s.close()), Promise.resolve())
      .then(() => {
        logger.info('stopped');
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // Spawned by a supervisor with an IPC channel: when it goes, however it died, this process goes too
  // instead of living on as an orphan that holds its port.
  if (process.channel) {
    process.channel.unref();
    process.once('disconnect', () => stop('supervisor gone'));
  }
}

function withoutDatabase(config: ServiceConfig): ServiceConfig {
  const { database: _unused, ...rest } = config;
  return rest;
}

export interface ServiceConfig {
  server: { port: number; host: string; shutdownTimeoutMs: number };
  logging: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
  database?: DatabaseConfig;
  messaging: MessagingConfig;
  /** Absent in a configuration built by hand (a test's): metrics are then on. */
  metrics?: MetricsConfig;
  tracing: TracingConfig;
}

/**
 * What each service declares about itself; gives it a config loader, a start function the all-in-one
 * process can call, and the main of its own process.
 */
export function defineService<S extends TSchema, DB>(definition: {
  name: string;
  schema: S;
  migrationsDir?: string;
  /** False where this configuration leaves the `database` section unused: it is then neither opened nor checked. */
  usesDatabase?(config: Static<S>): boolean;
  build(config: Static<S>, deps: ServiceDeps<DB>): Built | Promise<Built>;
}) {
  const { name, schema } = definition;
  const load = (env?: Record<string, string | undefined>): Static<S> & ServiceConfig =>
    loadConfig(schema, { service: name, secretKeys, ...(env ? { env } : {}) }) as Static<S> & ServiceConfig;
  const start = (
    config: Static<S> & ServiceConfig,
    options: { bus?: EventBus; logger?: Logger; traceName?: string } = {},
  ) =>
    startService<DB>({
      name,
      config: definition.usesDatabase?.(config) === false ? withoutDatabase(config) : config,
      logger: options.logger ?? createLogger(name, config.logging.level),
      ...(definition.migrationsDir ? { migrationsDir: definition.migrationsDir } : {}),
      ...(options.bus ? { bus: options.bus } : {}),
      ...(options.traceName ? { traceName: options.traceName } : {}),
      build: (deps) => definition.build(config, deps),
    });
  const main = () =>
    runUntilSignal(createLogger(name), async () => {
      const config = load();
      const traceName = process.env['OTEL_SERVICE_NAME'];
      return {
        services: [await start(config, traceName ? { traceName } : {})],
        shutdownTimeoutMs: config.server.shutdownTimeoutMs,
      };
    });
  return { name, schema, loadConfig: load, start, main };
}
