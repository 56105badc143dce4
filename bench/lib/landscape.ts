import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { nodeFlags, serviceEnv } from '../../scripts/landscape.ts';
import { childrenOf, startNode, waitForPorts, waitReady, type Started } from './processes.ts';

export const root = resolve(import.meta.dirname, '../..');
export const devEnvFile = join(root, 'dev.env');

export const servicePorts = {
  'product-composite': 7000,
  product: 7001,
  recommendation: 7002,
  review: 7003,
  'auth-server': 9999,
} as const;
export type ServiceName = keyof typeof servicePorts;
export const serviceNames = Object.keys(servicePorts) as ServiceName[];
/** How the reports name the processes that are not one service's: the minimal architecture's are named alike. */
export const ALL_IN_ONE_PROCESS = 'the one process (every service and the edge)';
export const SUPERVISOR_PROCESS = 'supervisor with the edge';
/** Every fixed port a landscape takes: the services, the edge's HTTPS and HTTP ports and its management port. */
export const landscapePorts = [...Object.values(servicePorts), 8443, 8080, 8081];

export const readinessUrl = (port: number) => `http://127.0.0.1:${port}/actuator/health/readiness`;

export type Mode = 'all-in-one' | 'per-service';

/** One service in its own process, as start-services runs it. */
export function spawnService(
  name: ServiceName,
  options: { cwd: string; env: NodeJS.ProcessEnv; logDir: string },
): Started {
  return startNode(
    name,
    [...nodeFlags, `--env-file-if-exists=${devEnvFile}`, join(root, 'services', name, 'src/main.ts')],
    {
      cwd: options.cwd,
      env: serviceEnv(name, options.env),
      logDir: options.logDir,
    },
  );
}

export interface Landscape {
  mode: Mode;
  process: Started;
  /** Milliseconds from spawn to the ready line with every service ready. */
  readyMs: number;
  /** What the landscape itself printed ("Ready in N ms"). */
  reportedReadyMs: number | undefined;
  /** The processes to watch, by name: the one process, or the supervisor (with the edge) and each service. */
  processes(): Map<string, number>;
  stop(): Promise<number | null>;
}

/** Starts `npm start` or `npm run start:services` as a person would, in its own working directory. */
export async function startLandscape(
  mode: Mode,
  options: { cwd: string; env: NodeJS.ProcessEnv; logDir: string; log?: (line: string) => void },
): Promise<Landscape> {
  await waitForPorts(landscapePorts, 120000, options.log);
  const script = mode === 'all-in-one' ? 'start.ts' : 'start-services.ts';
  const started = startNode(
    `landscape-${mode}`,
    [...nodeFlags, `--env-file-if-exists=${devEnvFile}`, join(root, 'scripts', script)],
    options,
  );
  try {
    const readyLine = () =>
      /Ready in (\d+) ms/.exec(existsSync(started.logFile) ? readFileSync(started.logFile, 'utf8') : '');
    const readyMs = await waitReady(started, Object.values(servicePorts).map(readinessUrl), {
      also: () => readyLine() !== null,
      intervalMs: 10,
    });
    const reported = readyLine()?.[1];
    return {
      mode,
      process: started,
      readyMs,
      reportedReadyMs: reported === undefined ? undefined : Number(reported),
      processes: () => {
        if (mode === 'all-in-one') return new Map([[ALL_IN_ONE_PROCESS, started.pid]]);
        const found = new Map<string, number>([[SUPERVISOR_PROCESS, started.pid]]);
        for (const child of childrenOf(started.pid)) {
          const name = serviceNames.find((n) => child.cmdline.some((arg) => arg.endsWith(`services/${n}/src/main.ts`)));
          if (name) found.set(name, child.pid);
        }
        return found;
      },
      stop: () => started.stop('SIGINT', 30000),
    };
  } catch (error) {
    await started.stop('SIGINT', 20000);
    throw error;
  }
}

// Keep-alive connections for the benchmark's own calls (tokens, set-up, event polling).
const agent = new Agent({ connections: 8, keepAliveTimeout: 30000 });
export const closeClient = () => agent.close();

export interface Answer {
  status: number;
  body: unknown;
}

export async function call(
  method: string,
  url: string,
  options: { token?: string; basic?: string; json?: unknown; form?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  if (options.basic) headers['authorization'] = `Basic ${Buffer.from(options.basic).toString('base64')}`;
  let body: string | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  if (options.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = options.form;
  }
  const response = await request(url, {
    method: method as 'GET',
    headers,
    body,
    dispatcher: agent,
    signal: AbortSignal.timeout(30000),
  });
  const text = await response.body.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : '';
  } catch {
    /* not JSON: keep the text */
  }
  return { status: response.statusCode, body: parsed };
}

export async function fetchToken(client: 'reader' | 'writer'): Promise<string> {
  const scope = client === 'reader' ? 'product:read' : 'product:read product:write';
  const answer = await call('POST', `http://127.0.0.1:${servicePorts['auth-server']}/oauth/token`, {
    basic: `${client}:secret`,
    form: new URLSearchParams({ grant_type: 'client_credentials', scope }).toString(),
  });
  const token = (answer.body as { access_token?: unknown }).access_token;
  if (answer.status !== 200 || typeof token !== 'string')
    throw new Error(`no token for ${client}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return token;
}

export const compositeUrl = `http://127.0.0.1:${servicePorts['product-composite']}`;

export interface Aggregate {
  productId: number;
  name: string;
  weight: number;
  recommendations: Array<{ recommendationId: number; author: string; rate: number; content: string }>;
  reviews: Array<{ reviewId: number; author: string; subject: string; content: string }>;
}

export function aggregate(productId: number, tag: string, parts: number): Aggregate {
  const ids = Array.from({ length: parts }, (_, i) => i + 1);
  return {
    productId,
    name: `bench ${tag} ${productId}`,
    weight: productId % 1000,
    recommendations: ids.map((i) => ({
      recommendationId: i,
      author: `bench ${tag}`,
      rate: i,
      content: `content ${i}`,
    })),
    reviews: ids.map((i) => ({
      reviewId: i,
      author: `bench ${tag}`,
      subject: `subject ${i}`,
      content: `content ${i}`,
    })),
  };
}

/** True once the composite shows exactly what was posted: the product and every part. */
export function complete(answer: Answer, expected: Aggregate): boolean {
  if (answer.status !== 200) return false;
  const body = answer.body as {
    name?: string;
    recommendations?: Array<{ author: string }>;
    reviews?: Array<{ author: string }>;
  };
  const author = expected.recommendations[0]?.author;
  return (
    body.name === expected.name &&
    body.recommendations?.length === expected.recommendations.length &&
    body.reviews?.length === expected.reviews.length &&
    body.recommendations.every((r) => r.author === author) &&
    body.reviews.every((r) => r.author === author)
  );
}

export async function postProduct(writer: string, product: Aggregate): Promise<void> {
  const answer = await call('POST', `${compositeUrl}/product-composite`, { token: writer, json: product });
  if (answer.status !== 200)
    throw new Error(`POST product ${product.productId}: ${answer.status} ${JSON.stringify(answer.body)}`);
}

export async function deleteProduct(writer: string, productId: number): Promise<void> {
  const answer = await call('DELETE', `${compositeUrl}/product-composite/${productId}`, { token: writer });
  if (answer.status !== 200)
    throw new Error(`DELETE product ${productId}: ${answer.status} ${JSON.stringify(answer.body)}`);
}

/**
 * Recreates a product for the load runs, tagged with this run so what an earlier run left in the real
 * databases is never mistaken for it: delete, wait until it is gone, create, wait until all of it shows.
 */
export async function recreateProduct(
  reader: string,
  writer: string,
  product: Aggregate,
  timeoutMs = 60000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const get = () => call('GET', `${compositeUrl}/product-composite/${product.productId}`, { token: reader });
  await deleteProduct(writer, product.productId);
  while ((await get()).status !== 404) {
    if (Date.now() > deadline) throw new Error(`product ${product.productId} still there after its DELETE`);
    await sleep(50);
  }
  await postProduct(writer, product);
  while (!complete(await get(), product)) {
    if (Date.now() > deadline)
      throw new Error(`product ${product.productId} not complete ${timeoutMs / 1000} s after its POST`);
    await sleep(50);
  }
}
