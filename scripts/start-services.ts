// One process per service on the real PostgreSQL, MariaDB and RabbitMQ, supervised: a service that
// dies is restarted with backoff; Ctrl-C stops them all. The edge runs in this supervising process.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay, createLogger, ensureDatabase } from '@landscape/platform';
import { authServerService } from '@landscape/auth-server/service';
import { productService } from '@landscape/product/service';
import { recommendationService } from '@landscape/recommendation/service';
import { reviewService } from '@landscape/review/service';
import type { RunningEdge } from '@landscape/edge';
import { banner, nodeFlags, ports, serviceEnv, startLocalEdge, type ServiceName } from './landscape.ts';

const logger = createLogger('supervisor');
const root = resolve(import.meta.dirname, '..');

const names = Object.keys(ports) as ServiceName[];
const envOf = (name: ServiceName) => serviceEnv(name, process.env);

// Create the databases now, so a missing permission is one clear message instead of a restart loop.
for (const definition of [productService, recommendationService, reviewService, authServerService]) {
  const { database } = definition.loadConfig(envOf(definition.name as ServiceName));
  if (!database) continue;
  try {
    await ensureDatabase(database, logger);
  } catch (error) {
    process.stderr.write(`\n${definition.name}: ${(error as Error).message}\n`);
    process.exit(1);
  }
}

let stopping = false;
const children = new Map<string, ChildProcess>();

function run(name: string, env: NodeJS.ProcessEnv, attempt = 0): void {
  // The IPC channel is the child's lifeline: it closes when this process dies, even by SIGKILL, and the
  // child then shuts down (see runUntilSignal).
  const child = spawn(process.execPath, [...nodeFlags, resolve(root, 'services', name, 'src/main.ts')], {
    env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const since = Date.now();
  children.set(name, child);
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (stopping) return;
    // A service that ran a while starts over with a short backoff; one that keeps dying waits longer.
    const next = Date.now() - since > 60000 ? 0 : attempt + 1;
    const delay = backoffDelay(next, { initialMs: 500, maxMs: 30000 });
    logger.warn({ service: name, code, signal, restartInMs: delay }, `${name} exited; restarting`);
    setTimeout(() => {
      if (!stopping) run(name, env, next);
    }, delay).unref();
  });
}

// However this process ends, its children end with it.
process.once('exit', () => {
  for (const child of children.values()) child.kill('SIGTERM');
});
process.on('uncaughtException', (error) => {
  logger.fatal({ err: error }, 'supervisor failed');
  void stop(1);
});
process.on('unhandledRejection', (error) => {
  logger.fatal({ err: error }, 'supervisor failed');
  void stop(1);
});

async function ready(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/actuator/health/readiness`, { signal: AbortSignal.timeout(2000) }))
      .ok;
  } catch {
    return false;
  }
}

process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());

// The edge first: its management port receives the services' spans over OTLP/HTTP (unless
// OTEL_EXPORTER_OTLP_ENDPOINT names another collector), so its trace page shows whole traces.
let edge: RunningEdge | undefined;
try {
  edge = await startLocalEdge(envOf('product-composite'));
} catch (error) {
  process.stderr.write(`\nedge: ${(error as Error).message}\n`);
  await stop(1);
}
const collector =
  process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] ?? (edge ? `http://127.0.0.1:${edge.managementPort}` : undefined);
// The services' spans live in the edge's store; a store of their own would only be read by nobody.
const exported = collector
  ? { OTEL_EXPORTER_OTLP_ENDPOINT: collector, TRACING_STORE_MAX_TRACES: process.env['TRACING_STORE_MAX_TRACES'] ?? '0' }
  : {};
for (const name of names) run(name, { ...envOf(name), ...exported });
while (!stopping) {
  const states = await Promise.all(Object.values(ports).map(ready));
  if (states.every(Boolean)) break;
  await sleep(200);
}
if (!stopping && edge) process.stdout.write(banner('one process per service', edge));

async function stop(code = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info('stopping');
  await edge?.close().catch((error: unknown) => logger.error({ err: error }, 'edge did not close cleanly'));
  await Promise.all(
    [...children.values()].map(
      (child) =>
        new Promise<void>((done) => {
          const kill = setTimeout(() => child.kill('SIGKILL'), 15000);
          child.once('exit', () => {
            clearTimeout(kill);
            done();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  process.exit(code);
}
