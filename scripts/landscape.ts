// What both ways of running the landscape share: the edge in front and the banner that tells a
// person where everything is.
import { resolve } from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import {
  connectBus,
  createLogger,
  loadConfig,
  processSpanStore,
  type Logger,
  type StoredSpan,
} from '@landscape/platform/core';
import type { EventBus } from '@landscape/platform';
import { edgeConfigSchema, startEdgeService, type RunningEdge } from '@landscape/edge';
import type { FromSecondThread, SecondThreadData, ToSecondThread } from './second-thread.ts';

/**
 * V8 flags every service process runs with. Node sizes the young generation from the machine's memory
 * (64 MiB semi-spaces on a large host), which a service's short-lived request objects never need: 4 MiB
 * keeps scavenges cheap and the resident set small (against 8 and 16 MiB, the benchmark's all-in-one
 * runs used no more CPU per request and some 15 and 30 MiB less memory). The old generation's limit sets how
 * far V8 lets the heap grow past what is live: with the 4 GiB it picks here it grows by up to 4× at a
 * time, and the all-in-one process, about 66 MB live under load, reached 500 MiB resident; with 512 MiB
 * it grows in smaller steps and stayed near 320 MiB at the same throughput. 512 MiB is some 8× the live
 * heap, so it sizes the heap rather than hiding a leak behind a cap. The package.json scripts and the
 * Dockerfile pass the same flags.
 */
export const nodeFlags = ['--max-semi-space-size=4', '--max-old-space-size=512'];

/**
 * Node's compile cache, set as NODE_COMPILE_CACHE by the package.json scripts (children inherit it): a
 * .ts file's types are stripped once and kept with its bytecode, so a later start neither loads the
 * type stripper (about 17 MiB resident per process) nor parses the source again.
 */
export const compileCacheDir = 'node_modules/.cache/node-compile-cache';

/**
 * glibc's malloc gives threads that allocate at once arenas of their own (up to 8 per core), and each
 * keeps what it freed. A Node process has several such threads (the main one, the edge's, V8's GC
 * helpers, libuv's pool); two arenas kept the all-in-one process about 15 MiB smaller under load in the
 * benchmark, at the same throughput. Set as MALLOC_ARENA_MAX by the package.json scripts and the
 * Dockerfile; glibc reads it once, at the start of a process.
 */
export const mallocArenaMax = '2';

export const ports = {
  'product-composite': 7000,
  product: 7001,
  recommendation: 7002,
  review: 7003,
  'auth-server': 9999,
  web: 7004,
} as const;
export type ServiceName = keyof typeof ports;

const root = resolve(import.meta.dirname, '..');

/**
 * The environment of one service in the one-process-per-service mode: the servers named by
 * POSTGRES_*, MYSQL_* and RABBITMQ_*, defaulting to this machine's local ones.
 */
export function serviceEnv(name: ServiceName, given: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const postgres = {
    DATABASE_HOST: given['POSTGRES_HOST'] ?? '127.0.0.1',
    DATABASE_PORT: given['POSTGRES_PORT'] ?? '5432',
    DATABASE_USERNAME: given['POSTGRES_USER'] ?? 'postgres',
    DATABASE_PASSWORD: given['POSTGRES_PASSWORD'] ?? '',
  };
  const mysql = {
    DATABASE_HOST: given['MYSQL_HOST'] ?? '127.0.0.1',
    DATABASE_PORT: given['MYSQL_PORT'] ?? '3306',
    DATABASE_USERNAME: given['MYSQL_USER'] ?? 'root',
    DATABASE_PASSWORD: given['MYSQL_PASSWORD'] ?? '',
  };
  const base = {
    ...given,
    CONFIG_LOCATION: given['CONFIG_LOCATION'] ?? resolve(root, 'config-repo'),
    MESSAGING_KIND: 'rabbitmq',
    MESSAGING_RABBITMQ_HOST: given['RABBITMQ_HOST'] ?? '127.0.0.1',
    MESSAGING_RABBITMQ_PORT: given['RABBITMQ_PORT'] ?? '5672',
    MESSAGING_RABBITMQ_USERNAME: given['RABBITMQ_USER'] ?? 'guest',
    MESSAGING_RABBITMQ_PASSWORD: given['RABBITMQ_PASSWORD'] ?? 'guest',
  };
  const servers =
    name === 'review'
      ? mysql
      : name === 'product' || name === 'recommendation' || name === 'auth-server'
        ? postgres
        : {};
  return { ...base, ...servers, ...ownOverrides(name, given) };
}

/** `PRODUCT__DATABASE_DATABASE=x` sets `DATABASE_DATABASE=x` for product alone. */
function ownOverrides(name: ServiceName, given: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const prefix = `${name.toUpperCase().replace(/-/g, '_')}__`;
  return Object.fromEntries(
    Object.entries(given)
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, value]) => [key.slice(prefix.length), value]),
  );
}

export async function startLocalEdge(env: Record<string, string | undefined>): Promise<RunningEdge> {
  const config = loadConfig(edgeConfigSchema, { service: 'edge', env });
  return startEdgeService(config, createLogger('edge', config.logging.level));
}

/** What the banner and a caller need of an edge, wherever it runs. */
export interface EdgeHandle {
  httpsPort: number;
  httpPort: number;
  managementPort: number;
  close(): Promise<void>;
}

/**
 * The edge and the core services of the all-in-one process in a worker thread of their own, with the
 * bus they consume from; the caller's thread publishes through the bus returned here, usable at once.
 * On one thread the services and the edge used one core of two; split this way, a composite request's
 * own work and its three core calls run on different cores. This thread allocates the most (the edge
 * and three services, about twice the main thread's bytes per request), so its young generation has
 * three semi-spaces of 8 MiB instead of every process's 4: in alternating all-in-one runs CPU per request
 * via the edge went 719 and 651 → 632 and 596 µs, V8's GC helper threads 2.3 and 1.9 → 1.5 and 1.4 s per
 * 10 s of load; the soak's RSS stayed at 225 MiB. With 8 MiB on the main thread too it reached 237 MiB,
 * next to the 238 MiB bound. The caller's spans are sent to the thread in batches, so the edge's trace
 * pages still show whole traces.
 */
export function startSecondThread(
  env: Record<string, string | undefined>,
  logger: Logger,
): { bus: EventBus; started: Promise<EdgeHandle> } {
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(new URL('./second-thread.ts', import.meta.url), {
    workerData: { env, busPort: port1 } satisfies SecondThreadData,
    transferList: [port1],
    resourceLimits: { maxYoungGenerationSizeMb: 24 },
  });
  const send = (message: ToSecondThread) => worker.postMessage(message);
  const batch: StoredSpan[] = [];
  processSpanStore().sendTo((span) => {
    if (batch.length === 0) setImmediate(() => send({ type: 'spans', spans: batch.splice(0) }));
    batch.push(span);
  });
  let state: 'starting' | 'running' | 'closing' = 'starting';
  const started = new Promise<EdgeHandle>((resolveThread, reject) => {
    const failed = (error: Error) => {
      if (state === 'starting') return reject(error);
      if (state === 'closing') return;
      // A landscape without its edge and core services must not look alive.
      logger.fatal({ err: error }, 'the second thread failed');
      process.exit(1);
    };
    worker.on('error', failed);
    worker.on('exit', (code) => failed(new Error(`the second thread stopped (exit code ${code})`)));
    worker.on('message', (message: FromSecondThread) => {
      if (message.type !== 'ready') return;
      state = 'running';
      const { httpsPort, httpPort, managementPort } = message;
      resolveThread({
        httpsPort,
        httpPort,
        managementPort,
        close: () =>
          new Promise<void>((closed) => {
            state = 'closing';
            worker.on('message', (next: FromSecondThread) => next.type === 'closed' && closed());
            worker.once('exit', () => closed());
            send({ type: 'close' });
          }),
      });
    });
  });
  return { bus: connectBus(port2), started };
}

/** performance.now() counts from the process's start, so the figure includes loading the code. */
export function banner(mode: string, edge: Omit<EdgeHandle, 'close'>): string {
  const base = `https://localhost:${edge.httpsPort}`;
  const services = Object.entries(ports)
    .map(([name, port]) => `  ${name.padEnd(18)} http://localhost:${port}`)
    .join('\n');
  return `
The product landscape is running (${mode}).
  storefront         ${base}/store/  (sign in as magnus / password; the operator view at ${base}/store/#operator)
  edge               ${base}  (http://localhost:${edge.httpPort} redirects to it; its own health on http://localhost:${edge.managementPort}/actuator/health)
${services}

Get a token, create a product, read it (the edge's certificate is self-signed, hence -k):
  TOKEN=$(curl -ks ${base}/oauth/token -u writer:secret -d grant_type=client_credentials -d scope="product:read product:write" | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')
  curl -ks ${base}/product-composite -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"productId":1,"name":"product 1","weight":1}'
  curl -ks ${base}/product-composite/1 -H "Authorization: Bearer $TOKEN"

Metrics (Prometheus text) on every port above at /actuator/prometheus, the edge's on http://localhost:${edge.managementPort}/actuator/prometheus.

Ready in ${Math.round(performance.now())} ms. Press Ctrl-C to stop.
`;
}
