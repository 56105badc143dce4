// One process per service on the real PostgreSQL, MariaDB and RabbitMQ, supervised: a service that
// dies is restarted with backoff; Ctrl-C stops them all. The edge runs in this supervising process.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, ensureDatabase } from '@landscape/platform';
import { productService } from '@landscape/product/service';
import { recommendationService } from '@landscape/recommendation/service';
import { reviewService } from '@landscape/review/service';
import type { RunningEdge } from '@landscape/edge';
import { banner, ports, startLocalEdge } from './landscape.ts';

const logger = createLogger('supervisor');
const root = resolve(import.meta.dirname, '..');
const given = process.env;

// The servers, from the environment, defaulting to this machine's local ones.
const postgres = { DATABASE_HOST: given['POSTGRES_HOST'] ?? '127.0.0.1', DATABASE_PORT: given['POSTGRES_PORT'] ?? '5432', DATABASE_USERNAME: given['POSTGRES_USER'] ?? 'postgres', DATABASE_PASSWORD: given['POSTGRES_PASSWORD'] ?? '' };
const mysql = { DATABASE_HOST: given['MYSQL_HOST'] ?? '127.0.0.1', DATABASE_PORT: given['MYSQL_PORT'] ?? '3306', DATABASE_USERNAME: given['MYSQL_USER'] ?? 'root', DATABASE_PASSWORD: given['MYSQL_PASSWORD'] ?? '' };
const rabbitmq = {
  MESSAGING_KIND: 'rabbitmq',
  MESSAGING_RABBITMQ_HOST: given['RABBITMQ_HOST'] ?? '127.0.0.1',
  MESSAGING_RABBITMQ_PORT: given['RABBITMQ_PORT'] ?? '5672',
  MESSAGING_RABBITMQ_USERNAME: given['RABBITMQ_USER'] ?? 'guest',
  MESSAGING_RABBITMQ_PASSWORD: given['RABBITMQ_PASSWORD'] ?? 'guest',
};

const base = { ...given, CONFIG_LOCATION: given['CONFIG_LOCATION'] ?? resolve(root, 'config-repo'), ...rabbitmq };
const specs = [
  { name: 'product', env: { ...base, ...postgres } },
  { name: 'recommendation', env: { ...base, ...postgres } },
  { name: 'review', env: { ...base, ...mysql } },
  { name: 'auth-server', env: base },
  { name: 'product-composite', env: base },
] as const;

// Create the databases now, so a missing permission is one clear message instead of a restart loop.
for (const [definition, env] of [[productService, specs[0].env], [recommendationService, specs[1].env], [reviewService, specs[2].env]] as const) {
  const { database } = definition.loadConfig(env);
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
  const child = spawn(process.execPath, [resolve(root, 'services', name, 'src/main.ts')], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  const since = Date.now();
  children.set(name, child);
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (stopping) return;
    // A service that ran a while starts over with a short backoff; one that keeps dying waits longer.
    const next = Date.now() - since > 60000 ? 0 : attempt + 1;
    const delay = Math.min(30000, 500 * 2 ** next);
    logger.warn({ service: name, code, signal, restartInMs: delay }, `${name} exited; restarting`);
    setTimeout(() => { if (!stopping) run(name, env, next); }, delay).unref();
  });
}

for (const spec of specs) run(spec.name, spec.env);
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());

async function ready(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/actuator/health/readiness`, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

let edge: RunningEdge | undefined;
edge = await startLocalEdge(base);
while (!stopping) {
  const states = await Promise.all(Object.values(ports).map(ready));
  if (states.every(Boolean)) break;
  await sleep(200);
}
if (!stopping) process.stdout.write(banner('one process per service', edge));

async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info('stopping');
  await edge?.close();
  await Promise.all([...children.values()].map((child) => new Promise<void>((done) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 15000);
    child.once('exit', () => { clearTimeout(kill); done(); });
    child.kill('SIGTERM');
  })));
  process.exit(0);
}
