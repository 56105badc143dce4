import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { eventually, keepAliveLoad, requestCount, scrape, testDatabaseName } from '@landscape/platform/testing';
import { clientToken, startLandscape, type Started } from '../support/processes.ts';
import { recordRow } from '../fault/summary.ts';

const root = resolve(import.meta.dirname, '../..');

/** Test databases for the per-service mode, so it never touches a developer's product_db and friends. */
const testDatabases = () => ({
  PRODUCT__DATABASE_DATABASE: testDatabaseName('product_e2e'),
  RECOMMENDATION__DATABASE_DATABASE: testDatabaseName('recommendation_e2e'),
  REVIEW__DATABASE_DATABASE: testDatabaseName('review_e2e'),
  AUTH_SERVER__DATABASE_DATABASE: testDatabaseName('auth_e2e'),
});

function walkthrough(): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(root, 'tests/e2e/walkthrough.ts')], {
      env: { ...process.env, HOST: 'localhost', PORT: '8443', WAIT_SECONDS: '60' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('exit', (code) => done({ code, output }));
  });
}

const summary = (output: string) => /walkthrough: (\d+) passed, (\d+) failed/.exec(output);

/**
 * After the walkthrough, every port serves its own service's series (in the all-in-one process too): each
 * consumer only on its service, the breaker only on the composite, the Ingress paths only on the edge.
 */
async function metricsPerService(): Promise<void> {
  const at = (port: number) => scrape(`http://127.0.0.1:${port}`);
  const [composite, product, recommendation, review, auth, edge] = await Promise.all(
    [7000, 7001, 7002, 7003, 9999, 8081].map(at),
  );
  const destinations = (scraped: Awaited<ReturnType<typeof at>>) =>
    [...new Set(scraped.series('messaging_process_total').map((s) => s.labels['messaging_destination_name']))].sort();
  assert.deepEqual(destinations(product!), ['products']);
  assert.deepEqual(destinations(recommendation!), ['recommendations']);
  assert.deepEqual(destinations(review!), ['reviews']);
  assert.deepEqual(destinations(composite!), []);
  assert.ok(requestCount(composite!, '/product-composite/:productId') > 0);
  assert.equal(requestCount(product!, '/product-composite/:productId'), 0);
  assert.ok(requestCount(product!, '/product/:productId') > 0);
  assert.ok(requestCount(auth!, '/oauth/token') > 0);
  assert.ok(requestCount(edge!, '/product-composite') > 0, 'the edge counts under the Ingress path');
  assert.ok(
    composite!.value('circuit_breaker_transitions_total', { to_state: 'open' }) >= 1,
    'the walkthrough opened the breaker',
  );
  assert.equal(product!.families.has('circuit_breaker_state'), false);
  assert.ok(product!.value('messaging_process_lag_seconds_count') > 0, 'the lag of the events product applied');
  for (const scraped of [composite, product, recommendation, review, auth, edge])
    assert.ok(scraped!.families.has('nodejs_eventloop_lag_p99_seconds'));
}

describe('the running landscape', () => {
  let running: Started | undefined;
  after(async () => {
    await running?.stop();
  });

  it('when started all-in-one, then the walkthrough passes; stopped and started again on one thread, the products are still there', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'landscape-'));
    running = await startLandscape('start.ts', cwd);
    assert.match(running.output(), /TOKEN=\$\(curl -ks https:\/\/localhost:8443\/oauth\/token/);
    const first = await walkthrough();
    const counts = summary(first.output);
    assert.equal(first.code, 0, first.output);
    assert.ok(counts && Number(counts[1]) > 40 && counts[2] === '0', first.output);
    await metricsPerService();

    assert.equal(await running.stop(), 0, 'Ctrl-C stops it cleanly');
    // SECOND_THREAD=false: the core services, the bus and the edge on the main thread, on the same files.
    running = await startLandscape('start.ts', cwd, { SECOND_THREAD: 'false' });
    const token = await fetchToken();
    const product = await fetch('http://127.0.0.1:7000/product-composite/2', {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(product.status, 200);
    const body = (await product.json()) as { name: string; recommendations: unknown[]; reviews: unknown[] };
    assert.equal(body.name, 'product name 2');
    assert.equal(body.recommendations.length, 3);
    assert.equal(body.reviews.length, 3);
    assert.equal(await running.stop(), 0);
    running = undefined;
  });

  it('when started one process per service on PostgreSQL, MariaDB and RabbitMQ, then the walkthrough passes', async () => {
    running = await startLandscape('start-services.ts', mkdtempSync(join(tmpdir(), 'landscape-')), testDatabases());
    const result = await walkthrough();
    assert.equal(result.code, 0, result.output);
    assert.equal(summary(result.output)?.[2], '0');
    await metricsPerService();

    // The supervisor restarts a service that dies.
    const productPid = () =>
      execFileSync('pgrep', ['-P', String(running?.process.pid), '-f', 'services/product/src/main.ts'])
        .toString()
        .trim();
    const before = productPid();
    process.kill(Number(before), 'SIGKILL');
    await eventually(
      async () => {
        assert.ok((await fetch('http://127.0.0.1:7001/actuator/health/readiness')).ok, 'product ready again');
        assert.notEqual(productPid(), before, 'a new product process');
      },
      { timeoutMs: 30000, intervalMs: 200 },
    );
    assert.equal(await running.stop(), 0);
    assert.throws(() => productPid(), 'every child is stopped with the supervisor');
    running = undefined;
  });
});

/** Whether anything accepts connections on that port of this machine. */
const listening = (port: number) =>
  new Promise<boolean>((done) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      done(true);
    });
    socket.on('error', () => done(false));
  });

describe('stopping the landscape under load', () => {
  let running: Started | undefined;
  after(async () => {
    await running?.stop();
  });

  it('when SIGTERM arrives while 16 keep-alive clients send requests, then every request sent is answered and it exits 0', async () => {
    running = await startLandscape('start.ts', mkdtempSync(join(tmpdir(), 'landscape-')));
    const token = await fetchToken();
    const load = keepAliveLoad({
      clients: 16,
      port: 8443,
      path: '/product-composite/1',
      headers: { authorization: `Bearer ${token}` },
    });
    await eventually(async () => assert.ok(load.result.answered >= 200, `answered ${load.result.answered}`), {
      timeoutMs: 30000,
      intervalMs: 50,
    });
    const exited = new Promise<number | null>((done) => running?.process.once('exit', (code) => done(code)));
    running.process.kill('SIGTERM');
    await load.finished;
    const code = await exited;
    process.stdout.write(`keep-alive load at SIGTERM: ${JSON.stringify(load.result)}, exit code ${code}\n`);
    recordRow({
      row: 'SIGTERM to all-in-one under keep-alive load',
      attempts: load.result.answered + load.result.failed,
      failures: load.errors.length + load.result.failed + (code === 0 ? 0 : 1),
    });
    assert.deepEqual(load.errors, [], 'no request sent went unanswered');
    assert.equal(load.result.failed, 0);
    assert.equal(code, 0, running.output().slice(-2000));
    running = undefined;
  });

  it('when one service of the per-service mode gets SIGTERM while 16 keep-alive clients call it, then every request sent is answered', async () => {
    running = await startLandscape('start-services.ts', mkdtempSync(join(tmpdir(), 'landscape-')), testDatabases());
    const load = keepAliveLoad({ clients: 16, port: 7001, path: '/product/1', tls: false });
    await eventually(async () => assert.ok(load.result.answered >= 200, `answered ${load.result.answered}`), {
      timeoutMs: 30000,
      intervalMs: 50,
    });
    const pid = Number(
      execFileSync('pgrep', ['-P', String(running.process.pid), '-f', 'services/product/src/main.ts'])
        .toString()
        .trim(),
    );
    process.kill(pid, 'SIGTERM');
    await load.finished;
    process.stdout.write(`keep-alive load at product's SIGTERM: ${JSON.stringify(load.result)}\n`);
    recordRow({
      row: 'SIGTERM to one service (per-service) under keep-alive load',
      attempts: load.result.answered + load.result.failed,
      failures: load.errors.length + load.result.failed,
    });
    assert.deepEqual(load.errors, [], 'no request sent went unanswered');
    assert.equal(load.result.failed, 0);
    assert.equal(await running.stop(), 0);
    running = undefined;
  });

  it('when the per-service supervisor is killed outright, then its child services stop too and free their ports', async () => {
    running = await startLandscape('start-services.ts', mkdtempSync(join(tmpdir(), 'landscape-')), testDatabases());
    const supervisor = running.process;
    const exited = new Promise<void>((done) => supervisor.once('exit', () => done()));
    supervisor.kill('SIGKILL');
    await exited;
    running = undefined;
    await eventually(
      async () => {
        for (const port of [7000, 7001, 7002, 7003, 7004, 9999])
          assert.equal(await listening(port), false, `port ${port} is free`);
      },
      { timeoutMs: 20000, intervalMs: 200 },
    );
  });
});

const fetchToken = () => clientToken('http://127.0.0.1:9999', 'reader', 'product:read');
