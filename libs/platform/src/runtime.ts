import { Session } from 'node:inspector/promises';
import type { Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { Type, type Static, type TSchema } from '@landscape/vendor/typebox';
import type { Logger } from 'pino';
import { ConfigError, loadConfig } from './config.ts';
import { errorMessage } from './errors.ts';
import { createLogger, loggingConfigSchema } from './log.ts';
import { Health } from './health.ts';
import { createBus, messagingConfigSchema, type EventBus, type EventHandler } from './messaging/index.ts';
import { consumerMetrics, databasePoolMetrics, Metrics, metricsConfigSchema } from './metrics/index.ts';
import { databaseConfigSchema, ensureDatabase, migrate, openDatabase, type Database } from './storage/index.ts';
import { createTracing, tracedBus, tracingConfigSchema, type Tracing } from './tracing/index.ts';

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

/** The keys every service's configuration has; a service's schema spreads these and adds its own. */
export const serviceConfigProperties = {
  server: serverConfigSchema,
  logging: loggingConfigSchema,
  metrics: metricsConfigSchema,
  tracing: tracingConfigSchema,
};

/**
 * What the runtime reads of any service's configuration. A service that stores adds `database`, one that
 * publishes or consumes events adds `messaging` (messagingConfigSchema); without it the service has no bus.
 */
export const serviceConfigSchema = Type.Object({
  ...serviceConfigProperties,
  database: Type.Optional(databaseConfigSchema),
  messaging: Type.Optional(messagingConfigSchema),
});
export type ServiceConfig = Static<typeof serviceConfigSchema>;

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

/** What the runtime hands every service's build. */
export interface ServiceDeps {
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

/** Added for a service whose configuration has a `database`: opened and migrated before build runs. */
export interface WithDatabase<DB> {
  database: Database<DB>;
}

/** Added for a service whose configuration has `messaging`. */
export interface WithBus {
  bus: EventBus;
}

export interface ServiceSpec<Deps extends ServiceDeps> {
  name: string;
  config: ServiceConfig;
  logger: Logger;
  /** Numbered SQL migrations, applied to the configured database before the service takes traffic. */
  migrationsDir?: string;
  /** A bus owned by the caller (the all-in-one process shares one); otherwise the service opens its own. */
  bus?: EventBus;
  /** The name its spans carry (OTEL_SERVICE_NAME in a process of its own); the service's name otherwise. */
  traceName?: string;
  build(deps: Deps): Built | Promise<Built>;
}

/**
 * Opens what the configuration names (the database, migrated; the bus), wires health, builds the
 * service's routes and consumers and listens. Every resource it opened is closed by the returned
 * close(), in reverse order.
 */
export async function startService<Deps extends ServiceDeps>(spec: ServiceSpec<Deps>): Promise<RunningService> {
  const { config, logger } = spec;
  const health = new Health();
  const metrics = new Metrics(config.metrics);
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
    let database: Database<unknown> | undefined;
    if (config.database) {
      await ensureDatabase(config.database, logger);
      const db = openDatabase<unknown>(config.database, { logger, tracing });
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
    let bus: EventBus | undefined;
    if (config.messaging) {
      const ownBus = spec.bus ?? (await createBus(config.messaging, logger));
      if (!spec.bus) closers.push(() => ownBus.close());
      health.add({ name: 'messaging', readiness: true, check: () => ownBus.health() });
      bus = tracedBus(ownBus, tracing, config.messaging.kind);
    }

    let address = '';
    const deps = { logger, health, metrics, tracing, serviceAddress: () => address, database, bus };
    // The one unchecked step: defineService pairs a build that needs a database with a schema that
    // requires one, and a build that needs a bus with a schema that has `messaging`.
    const built = await spec.build(deps as unknown as Deps);
    const app = built.app;
    if (built.close) closers.push(built.close);
    const subscriptions = built.subscriptions ?? [];
    if (subscriptions.length > 0) {
      if (!bus) throw new Error(`${spec.name} consumes events but has no messaging configuration`);
      const observe = consumerMetrics(metrics);
      for (const s of subscriptions)
        await bus.subscribe(s.destination, s.group, s.handler, observe(s.destination, s.group));
    }

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
  await collectStartupGarbage(logger);
}

/**
 * Start-up leaves garbage behind (configuration, schemas, migrations, code compiled once) and a young
 * generation grown to its largest. An idle process keeps both until a major collection that may not
 * come for hours: about 10 MiB of a service's resident memory. One full collection once started gives
 * them back. The inspector's in-process session opens no port and is closed again at once. A worker
 * thread's session is its own isolate's, so a thread that starts services calls this too.
 */
export async function collectStartupGarbage(logger: Logger): Promise<void> {
  const session = new Session();
  try {
    session.connect();
    await session.post('HeapProfiler.collectGarbage');
  } catch (error) {
    logger.debug({ err: error }, 'start-up garbage not collected');
  } finally {
    session.disconnect();
  }
}

/** What a service's own process passes to start(): the span name OTEL_SERVICE_NAME sets. */
export function processOptions(env: Record<string, string | undefined> = process.env): { traceName?: string } {
  const traceName = env['OTEL_SERVICE_NAME'];
  return traceName ? { traceName } : {};
}

/**
 * What each service declares about itself, in one place: its name, its configuration schema, the
 * migrations of its database and how to build it. Gives it a config loader and a start function that
 * its main.ts and the all-in-one process call.
 */
export function defineService<S extends TSchema, Deps extends ServiceDeps>(definition: {
  name: string;
  schema: S;
  database?: {
    migrationsDir: string;
    /** False where this configuration leaves the `database` section unused: it is then neither opened nor checked. */
    usedBy?(config: Static<S>): boolean;
  };
  build(config: Static<S>, deps: Deps): Built | Promise<Built>;
}) {
  const { name, schema, database } = definition;
  type Config = Static<S> & ServiceConfig;
  const loadServiceConfig = (env?: Record<string, string | undefined>): Config =>
    loadConfig(schema, { service: name, secretKeys, ...(env ? { env } : {}) }) as Config;
  const start = (config: Config, options: { bus?: EventBus; logger?: Logger; traceName?: string } = {}) => {
    const { database: _unused, ...withoutDatabase } = config;
    return startService<Deps>({
      name,
      config: database?.usedBy?.(config) === false ? withoutDatabase : config,
      logger: options.logger ?? createLogger(name, config.logging.level),
      ...(database ? { migrationsDir: database.migrationsDir } : {}),
      ...(options.bus ? { bus: options.bus } : {}),
      ...(options.traceName ? { traceName: options.traceName } : {}),
      build: (deps) => definition.build(config, deps),
    });
  };
  return { name, schema, loadConfig: loadServiceConfig, start };
}
