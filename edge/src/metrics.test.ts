import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent, fetch } from 'undici';
import { createLogger, loadConfig } from '@landscape/platform';
import { parsePrometheusText, requestCount, scrape } from '@landscape/platform/testing';
import { edgeConfigSchema, repositoryRoot } from './config.ts';
import { matchRoute, readIngressRoutes } from './routes.ts';
import { startEdgeService, type RunningEdge } from './service.ts';

const insecure = new Agent({ connect: { rejectUnauthorized: false } });

describe("the edge's metrics", () => {
  let backend: Server;
  let edge: RunningEdge;
  let management: string;
  const proxied = (path: string, method = 'GET') =>
    fetch(`https://127.0.0.1:${edge.httpsPort}${path}`, { method, dispatcher: insecure });

  before(async () => {
    backend = createServer((request, response) => {
      response.writeHead(request.url?.includes('missing') ? 404 : 200, { 'content-type': 'application/json' });
      response.end('{}');
    });
    await new Promise<void>((done) => backend.listen(0, '127.0.0.1', done));
    const dir = mkdtempSync(join(tmpdir(), 'edge-metrics-'));
    writeFileSync(
      join(dir, 'edge.yml'),
      `edge: {host: 127.0.0.1, httpsPort: 0, httpPort: 0, managementPort: 0, dataDir: ${join(dir, 'data')}, certificateNames: [localhost],
  backends: {product-composite: 'http://127.0.0.1:${(backend.address() as AddressInfo).port}', auth-server: 'http://127.0.0.1:1'}}\n`,
    );
    const config = loadConfig(edgeConfigSchema, { service: 'edge', env: { CONFIG_LOCATION: join(dir, 'edge.yml') } });
    edge = await startEdgeService(config, createLogger('edge-metrics-test', 'silent'));
    management = `http://127.0.0.1:${edge.managementPort}`;
  });
  after(async () => {
    await edge.close();
    backend.close();
  });

  it('when requests go through the edge, then its management port counts them under the Ingress path that routed them, by status', async () => {
    const before = await scrape(management);
    for (const id of [1, 2, 3]) assert.equal((await proxied(`/product-composite/${id}`)).status, 200);
    assert.equal((await proxied('/product-composite/missing')).status, 404);
    assert.equal((await proxied('/oauth/token', 'POST')).status, 502);
    const after = await scrape(management);
    const rose = (route: string, status: string) =>
      requestCount(after, route, { http_response_status_code: status }) -
      requestCount(before, route, { http_response_status_code: status });
    assert.equal(rose('/product-composite', '200'), 3);
    assert.equal(rose('/product-composite', '404'), 1);
    assert.equal(rose('/oauth', '502'), 1);
    assert.ok(!after.text.includes('/product-composite/1'), 'no raw path in a label');
    assert.ok(after.families.has('nodejs_eventloop_lag_p99_seconds'), 'the runtime too');
  });

  it('when paths no Ingress route has are asked, then they share the fixed unmatched label', async () => {
    for (const path of ['/wp-login.php', '/a/b/c', '/actuator/prometheus'])
      assert.equal((await proxied(path)).status, 404, path);
    const scraped = await scrape(management);
    assert.ok(requestCount(scraped, 'unmatched', { http_response_status_code: '404' }) >= 3);
    assert.ok(!scraped.text.includes('wp-login'));
  });

  it('when the management endpoint is asked with another method or junk in the query, then 405 or the exposition, never a 5xx', async () => {
    const post = await fetch(`${management}/actuator/prometheus`, { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    const junk = await fetch(`${management}/actuator/prometheus?x[]=1&%zz`);
    assert.equal(junk.status, 200);
    parsePrometheusText(await junk.text());
    assert.equal((await fetch(`${management}/actuator/prometheus/`)).status, 200);
  });
});

describe('the metrics stay inside', () => {
  it("when the Ingress's routes are matched, then no public path reaches a service's /actuator/prometheus", () => {
    const routes = readIngressRoutes(join(repositoryRoot, 'kubernetes/base/ingress.yaml'));
    for (const path of [
      '/actuator/prometheus',
      '/actuator/prometheus/',
      '/actuator',
      '/actuator/health/../prometheus',
    ]) {
      assert.equal(matchRoute(routes, new URL(path, 'http://x').pathname), undefined, path);
    }
  });
});
