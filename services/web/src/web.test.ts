import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { createLogger, type RunningService } from '@landscape/platform';
import { assertContractError, freePort, requestCount, scrape, testEnv } from '@landscape/platform/testing';
import { AUDIENCE, ISSUER, startTestIssuer, type TestIssuer } from '@landscape/platform/testing';
import { webService } from './service.ts';

/** Stands in for the landscape's services: composite and product up, review not ready, its health details secret. */
function fakeLandscape(): Server {
  return createServer((request, response) => {
    const url = request.url ?? '/';
    const json = (status: number, body: unknown) =>
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (url.startsWith('/review/actuator/health/readiness'))
      return json(503, { status: 'DOWN', components: { db: { status: 'DOWN', details: { error: 'secret detail' } } } });
    if (url.endsWith('/actuator/health/liveness') || url.endsWith('/actuator/health/readiness'))
      return json(200, { status: 'UP', components: { db: { details: { database: 'postgres' } } } });
    if (url === '/composite/actuator/health') {
      return json(200, {
        status: 'UP',
        components: {
          circuitBreakers: {
            status: 'UP',
            details: { product: { status: 'CIRCUIT_OPEN', details: { state: 'OPEN', failedCalls: 3 } } },
          },
        },
      });
    }
    if (url === '/composite/actuator/circuitbreakerevents/product/STATE_TRANSITION') {
      return json(200, {
        circuitBreakerEvents: [
          {
            circuitBreakerName: 'product',
            type: 'STATE_TRANSITION',
            creationTime: '2026-01-01T00:00:00.000Z',
            stateTransition: 'CLOSED_TO_OPEN',
          },
        ],
      });
    }
    return json(404, {});
  });
}

/** Bytes written as they are, for requests no HTTP client would send. */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(text));
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString();
    });
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe("the storefront's web service", () => {
  let landscape: Server;
  let issuer: TestIssuer;
  let web: RunningService;
  let base = '';

  before(async () => {
    landscape = fakeLandscape();
    await new Promise<void>((resolve) => landscape.listen(0, '127.0.0.1', resolve));
    const fake = `http://127.0.0.1:${(landscape.address() as AddressInfo).port}`;
    issuer = await startTestIssuer();
    const config = webService.loadConfig(
      testEnv('web', 'sqlite', {
        SECURITY_JWKS_URL: issuer.jwksUrl,
        SECURITY_ISSUER: ISSUER,
        SECURITY_AUDIENCE: AUDIENCE,
      }),
    );
    config.web.services = {
      'product-composite': `${fake}/composite`,
      product: `${fake}/product`,
      review: `${fake}/review`,
      'auth-server': `http://127.0.0.1:${await freePort()}`,
    };
    config.web.compositeUrl = `${fake}/composite`;
    web = await webService.start(config, { logger: createLogger('web-test', 'silent') });
    base = web.url;
  });
  after(async () => {
    await web?.close();
    await issuer?.close();
    await new Promise((resolve) => landscape?.close(resolve));
  });

  it('when the storefront page is asked for, then it comes with a CSP without unsafe-inline, no caching and the other secure headers', async () => {
    const response = await fetch(`${base}/store/`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
    const csp = response.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(response.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(response.headers.get('x-frame-options'), 'DENY');
    const html = await response.text();
    assert.match(html, /<script type="module" src="\/store\/assets\/app.js"><\/script>/);
    // No inline script or style the CSP would have to allow.
    assert.doesNotMatch(html, /<script>|<script type="module">|<style|style="/);
  });

  it('when an asset is asked for with gzip, then the built file comes compressed, and each answer carries the CSP', async () => {
    const plain = await fetch(`${base}/store/assets/app.js`, { headers: { 'accept-encoding': 'identity' } });
    assert.equal(plain.status, 200);
    assert.match(plain.headers.get('content-type') ?? '', /^text\/javascript/);
    const body = Buffer.from(await plain.arrayBuffer());
    const zipped = await new Promise<{ encoding: string | undefined; body: Buffer }>((resolve, reject) => {
      const socketRequest = `GET /store/assets/app.js HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n`;
      const socket = connect(web.port, '127.0.0.1', () => socket.write(socketRequest));
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('end', () => {
        const all = Buffer.concat(chunks);
        const split = all.indexOf('\r\n\r\n');
        const head = all.subarray(0, split).toString();
        resolve({ encoding: /content-encoding: (\S+)/i.exec(head)?.[1], body: all.subarray(split + 4) });
      });
      socket.on('error', reject);
    });
    assert.equal(zipped.encoding, 'gzip');
    assert.deepEqual(gunzipSync(zipped.body), body);
    assert.ok(zipped.body.length < body.length);
    const css = await fetch(`${base}/store/assets/style.css`);
    assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
    assert.match(css.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  });

  it('when / is asked for, then it redirects to the storefront', async () => {
    const response = await fetch(`${base}/`, { redirect: 'manual' });
    assert.equal(response.status, 302);
    assert.equal(response.headers.get('location'), '/store/');
  });

  it("when a path or file does not exist, then 404 in the contract's shape; a write to a page is 405 with Allow", async () => {
    for (const path of [
      '/store/assets/missing.js',
      '/store/assets/..%2Fpackage.json',
      '/store/assets/%2e%2e%2f%2e%2e%2fsrc%2fapp.ts',
      '/store/nothing',
      '/elsewhere',
    ]) {
      const response = await fetch(`${base}${path}`);
      assertContractError({ status: response.status, body: await response.json() }, 404, /\S/);
      assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    }
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const response = await fetch(`${base}/store/`, { method });
      assertContractError(
        { status: response.status, body: await response.json() },
        405,
        `${method} is not allowed here`,
        '/store/',
      );
      assert.equal(response.headers.get('allow'), 'GET, HEAD');
    }
  });

  it("when a malformed request arrives, then a 400 in the contract's shape and the service keeps answering", async () => {
    assert.match(
      await rawRequest(web.port, 'GET /store/ HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n'),
      /^HTTP\/1\.1 400/,
    );
    assert.match(await rawRequest(web.port, 'NOT-HTTP\r\n\r\n'), /^HTTP\/1\.1 400/);
    assert.match(
      await rawRequest(web.port, 'GET /store/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      /^HTTP\/1\.1 (400|404)/,
    );
    assert.equal((await fetch(`${base}/store/`)).status, 200);
  });

  it('when the settings are asked for, then they name the public client the page signs in as and the issuer it expects', async () => {
    assert.deepEqual(await (await fetch(`${base}/store/api/settings`)).json(), { clientId: 'store', issuer: ISSUER });
  });

  it("when the operator summary is asked for, then each service's probes are UP, DOWN or UNREACHABLE with no component details, and the breaker's state and transitions", async () => {
    const response = await fetch(`${base}/store/api/operator`, {
      headers: { authorization: `Bearer ${await issuer.reader()}` },
    });
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.doesNotMatch(text, /secret detail|postgres|components/);
    assert.deepEqual(JSON.parse(text), {
      services: [
        { name: 'product-composite', liveness: 'UP', readiness: 'UP' },
        { name: 'product', liveness: 'UP', readiness: 'UP' },
        { name: 'review', liveness: 'UP', readiness: 'DOWN' },
        { name: 'auth-server', liveness: 'UNREACHABLE', readiness: 'UNREACHABLE' },
      ],
      circuitBreaker: {
        state: 'OPEN',
        transitions: [{ stateTransition: 'CLOSED_TO_OPEN', creationTime: '2026-01-01T00:00:00.000Z' }],
      },
    });
  });

  it('when the operator summary is asked for without a valid token or without product:read, then 401 or 403 and nothing of it', async () => {
    const cases: Array<[string | undefined, number]> = [
      [undefined, 401],
      ['Bearer not-a-jwt', 401],
      [`Bearer ${await issuer.sign({ scope: 'product:read' }, {}, -10)}`, 401],
      [`Bearer ${await issuer.sign({ scope: 'other' })}`, 403],
    ];
    for (const [authorization, status] of cases) {
      const response = await fetch(`${base}/store/api/operator`, authorization ? { headers: { authorization } } : {});
      assert.equal(response.status, status, authorization);
      const text = await response.text();
      assert.doesNotMatch(text, /circuitBreaker|liveness/);
      assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer/);
    }
  });

  it("when the service's own health is asked for, then the platform's actuator answers", async () => {
    assert.equal((await fetch(`${base}/actuator/health/readiness`)).status, 200);
  });

  it('when /actuator/prometheus is scraped, then asset requests are counted under their route template, found or not', async () => {
    const route = '/store/assets/:file';
    const before = await scrape(base);
    for (const file of ['app.js', 'style.css', 'missing.js'])
      await (await fetch(`${base}/store/assets/${file}`)).arrayBuffer();
    const after = await scrape(base);
    assert.equal(requestCount(after, route) - requestCount(before, route), 3);
    assert.equal(
      requestCount(after, route, { http_response_status_code: '404' }) -
        requestCount(before, route, { http_response_status_code: '404' }),
      1,
    );
    assert.equal(requestCount(after, '/store/assets/missing.js'), 0, 'no series per raw path');
  });
});
