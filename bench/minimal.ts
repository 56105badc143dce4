// The landscape's architecture at its least, as a floor for its figures: a TLS edge forwarding through
// undici, a composite making its three core calls in parallel through undici, and three core servers
// each answering from a prepared node:sqlite statement, all on bare node:http with nothing else (no
// framework, validation, auth, logging, metrics or tracing). MINIMAL_ROLES says which parts this
// process runs: every one for the all-in-one shape, one for the per-service shape. MINIMAL_STORE=servers
// reads from this machine's PostgreSQL (product, recommendation) and MariaDB (review) instead, with
// prepared statements, as the landscape's services do in that shape.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server } from 'node:net';
import { DatabaseSync } from 'node:sqlite';
import { createPool } from 'mysql2/promise';
import pg from 'pg';
import { Agent } from '@landscape/vendor/undici';
import { createSelfSigned } from '@landscape/edge';

const ROLES = ['edge', 'composite', 'product', 'recommendation', 'review'] as const;
type Role = (typeof ROLES)[number];

const roles = new Set((process.env['MINIMAL_ROLES'] ?? ROLES.join(',')).split(',') as Role[]);
const ports = (process.env['MINIMAL_PORTS'] ?? '').split(',').map(Number);
if (ports.length !== ROLES.length || ports.some((p) => !Number.isInteger(p) || p <= 0))
  throw new Error(`MINIMAL_PORTS must list ${ROLES.length} ports: ${ROLES.join(', ')}`);
const port = (role: Role) => ports[ROLES.indexOf(role)]!;
const origin = (role: Role) => `http://127.0.0.1:${port(role)}`;
const agent = new Agent({ connections: 256 });

function json(response: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

/** One GET read whole, as the composite's calls are. */
function getJson(role: Role, path: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    agent.dispatch(
      { origin: origin(role), path, method: 'GET' },
      {
        onRequestStart: () => {},
        onResponseStart: () => {},
        onResponseData: (_c, chunk) => void chunks.push(chunk),
        onResponseEnd: () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))),
        onResponseError: (_c, error) => reject(error),
      },
    );
  });
}

function listen(server: Server, role: Role): Promise<void> {
  return new Promise((resolve) => server.listen(port(role), '127.0.0.1', resolve));
}

const servers: Array<{ close(): void; closeAllConnections(): void }> = [];
const productIdOf = (request: IncomingMessage) => Number(/(\d+)/.exec(request.url ?? '')?.[1]);

const COLUMNS = 'product_id AS "productId", id, author, content, rate';
const DATABASE = 'landscape_minimal_bench';
const rows = (productId: number) =>
  [1, 2, 3].map(
    (id) => [productId, id, `author ${id}`, `content ${id}`, id] as [number, number, string, string, number],
  );

type Read = (productId: number) => Promise<unknown[]> | unknown[];

/** The role's three rows of product 1 in a table of its own, and a prepared read of a product's rows. */
async function store(role: Role): Promise<Read> {
  const table = `minimal_${role}`;
  const create = `CREATE TABLE IF NOT EXISTS ${table} (product_id INTEGER, id INTEGER, author VARCHAR(50), content VARCHAR(50), rate INTEGER)`;
  const select = `SELECT ${COLUMNS} FROM ${table} WHERE product_id = `;
  if (process.env['MINIMAL_STORE'] !== 'servers') {
    const db = new DatabaseSync(':memory:');
    db.exec(create);
    const insert = db.prepare(`INSERT INTO ${table} VALUES (?, ?, ?, ?, ?)`);
    for (const row of rows(1)) insert.run(...row);
    const read = db.prepare(`${select}?`);
    return (productId) => read.all(productId);
  }
  if (role === 'review') {
    const admin = createPool({ host: '127.0.0.1', user: 'root' });
    await admin.query(`CREATE DATABASE IF NOT EXISTS ${DATABASE}`);
    await admin.end();
    const pool = createPool({ host: '127.0.0.1', user: 'root', database: DATABASE, connectionLimit: 10 });
    await pool.query(create.replaceAll('"', '`'));
    await pool.query(`DELETE FROM ${table}`);
    await pool.query(`INSERT INTO ${table} VALUES ?`, [rows(1)]);
    const text = `${select.replaceAll('"', '`')}?`;
    return async (productId) => (await pool.execute(text, [productId]))[0] as unknown[];
  }
  const admin = new pg.Client({ host: '127.0.0.1', user: 'postgres', database: 'postgres' });
  await admin.connect();
  // Two parts may start at once: the one that loses the race to create the database finds it there.
  const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
  if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${DATABASE}`).catch(() => {});
  await admin.end();
  const pool = new pg.Pool({ host: '127.0.0.1', user: 'postgres', database: DATABASE, max: 10 });
  await pool.query(create);
  await pool.query(`DELETE FROM ${table}`);
  for (const row of rows(1)) await pool.query(`INSERT INTO ${table} VALUES ($1, $2, $3, $4, $5)`, row);
  const text = `${select}$1`;
  return async (productId) => (await pool.query({ name: 'read', text, values: [productId] })).rows;
}

for (const role of ['product', 'recommendation', 'review'] as const) {
  if (!roles.has(role)) continue;
  const read = await store(role);
  const server = createHttpServer(async (request, response) => {
    const found = await read(productIdOf(request));
    if (role !== 'product') return json(response, 200, found);
    const [row] = found as Array<{ productId: number; author: string; rate: number }>;
    json(response, 200, { productId: row?.productId, name: row?.author, weight: row?.rate, serviceAddress: role });
  });
  servers.push(server);
  await listen(server, role);
}

if (roles.has('composite')) {
  const server = createHttpServer(async (request, response) => {
    const id = productIdOf(request);
    try {
      const [product, recommendations, reviews] = await Promise.all([
        getJson('product', `/product/${id}`),
        getJson('recommendation', `/recommendation?productId=${id}`),
        getJson('review', `/review?productId=${id}`),
      ]);
      json(response, 200, { ...(product as object), recommendations, reviews });
    } catch (error) {
      json(response, 502, { message: String(error) });
    }
  });
  servers.push(server);
  await listen(server, 'composite');
}

if (roles.has('edge')) {
  const { key, cert } = await createSelfSigned(['127.0.0.1', 'localhost']);
  const server = createHttpsServer({ key, cert }, (request, response) => {
    agent.dispatch(
      { origin: origin('composite'), path: request.url ?? '/', method: 'GET', headers: request.headers },
      {
        onRequestStart: () => {},
        onResponseStart: (_c, status, headers) => void response.writeHead(status, headers),
        onResponseData: (_c, chunk) => void response.write(chunk),
        onResponseEnd: () => void response.end(),
        onResponseError: () => json(response, 502, { message: 'composite is unavailable' }),
      },
    );
  });
  servers.push(server);
  await listen(server, 'edge');
}

process.stdout.write(`minimal landscape (${[...roles].join(', ')}) listening\n`);
const stop = () => {
  for (const server of servers) {
    server.close();
    server.closeAllConnections();
  }
  void agent.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
