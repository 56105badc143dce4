import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type RequestListener, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect, type AddressInfo } from 'node:net';
import { connect } from 'node:tls';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino, type Logger } from 'pino';
import { createLogger, createTracing, loadConfig, type Tracing } from '@landscape/platform';
import { assertContractError, eventually, keepAliveLoad } from '@landscape/platform/testing';
import { edgeConfigSchema, repositoryRoot } from './config.ts';
import { createSelfSigned, loadOrCreateDevCertificate } from './certificates.ts';
import { startEdge, type Edge } from './edge.ts';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(
  port: number,
  path: string,
  options: { method?: string; body?: Buffer | string; headers?: Record<string, string>; tls?: boolean } = {},
): Promise<Answer> {
  const request = options.tls === false ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        headers: { host: 'localhost', ...options.headers },
        rejectUnauthorized: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Writes raw bytes to the edge over TLS and gives back everything it answered until it closed. */
function sendRaw(port: number, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => socket.write(raw));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
}

/** An answer with its body parsed as JSON, for checking it against the contract's error shape. */
const parsed = (answer: Answer) => ({ status: answer.status, body: JSON.parse(answer.body) as unknown });
const statusOf = (answer: string) => Number(/^HTTP\/1\.1 (\d{3}) /.exec(answer)?.[1] ?? 0);
const bodyOf = (answer: string) => answer.slice(answer.indexOf('\r\n\r\n') + 4);

describe('edge', () => {
  let edge: Edge;
  let backend: Server;
  let seen: Array<{ url: string; headers: Record<string, unknown>; body: string }> = [];
  // Requests to /product-composite/hold are never answered; each one's connection closing is noted here.
  let heldClosed = 0;
  const large = Buffer.alloc(4 * 1024 * 1024, 'x');
  const dir = mkdtempSync(join(tmpdir(), 'edge-test-'));

  before(async () => {
    backend = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      if (request.url === '/product-composite/hold') {
        response.on('close', () => heldClosed++);
        return;
      }
      request.on('end', async () => {
        if (request.url === '/product-composite/names-a-hop') {
          response.writeHead(200, { connection: 'keep-alive, x-hop', 'x-hop': 'secret', 'x-kept': 'yes' });
          return response.end('{}');
        }
        if (request.url === '/product-composite/large') {
          response.writeHead(200, { 'content-type': 'application/octet-stream' });
          return response.end(large);
        }
        seen.push({ url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString() });
        // Slower than the edge's 1000 ms response timeout, which is what the 504 test checks.
        if (request.url?.startsWith('/product-composite/slow')) await sleep(1500);
        response.writeHead(200, { 'content-type': 'application/json', connection: 'keep-alive' });
        response.end(JSON.stringify({ service: 'composite', url: request.url }));
      });
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    const ingress = join(dir, 'ingress.yaml');
    writeFileSync(
      ingress,
      `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: edge}
spec:
  rules:
  - host: minikube.me
    http:
      paths:
      - {path: /product-composite, pathType: Prefix, backend: {service: {name: product-composite, port: {number: 80}}}}
      - {path: /exact, pathType: Exact, backend: {service: {name: product-composite, port: {number: 80}}}}
      - {path: /down, pathType: Prefix, backend: {service: {name: nobody-home, port: {number: 80}}}}
`,
    );
    edge = await startEdge(
      {
        host: '127.0.0.1',
        httpsPort: 0,
        httpPort: 0,
        ingressFile: ingress,
        dataDir: join(dir, 'data'),
        backends: {
          'product-composite': `http://127.0.0.1:${(backend.address() as AddressInfo).port}`,
          'nobody-home': 'http://127.0.0.1:1',
        },
        certificateNames: ['localhost', '127.0.0.1', 'minikube.me'],
        domains: [],
        managementHost: '127.0.0.1',
        managementPort: 0,
        bodyLimitBytes: 1000,
        connectTimeoutMs: 1000,
        responseTimeoutMs: 1000,
        headersTimeoutMs: 20000,
      },
      createLogger('edge-test', 'silent'),
    );
  });
  after(async () => {
    await edge.close();
    backend.close();
  });

  it('when a path matches a Prefix route, then the request reaches that backend with X-Forwarded-* headers and HSTS on the answer', async () => {
    seen = [];
    const answer = await send(edge.httpsPort, '/product-composite/1?x=2', {
      headers: { 'x-forwarded-for': '10.0.0.1' },
    });
    assert.equal(answer.status, 200);
    assert.equal(JSON.parse(answer.body).url, '/product-composite/1?x=2');
    assert.match(String(answer.headers['strict-transport-security']), /max-age=\d+/);
    const headers = seen[0]?.headers ?? {};
    assert.equal(headers['x-forwarded-proto'], 'https');
    assert.equal(headers['x-forwarded-host'], 'localhost');
    assert.equal(headers['x-forwarded-port'], String(edge.httpsPort));
    assert.equal(headers['x-forwarded-for'], '10.0.0.1, 127.0.0.1');
    assert.equal(headers['host'], 'localhost', 'the original Host is kept, as the Ingress controller does');
  });

  it('when a path only shares a string prefix or misses an Exact route, then 404 in the contract shape', async () => {
    for (const path of ['/product-compositeX', '/exact/more', '/nothing']) {
      assertContractError(parsed(await send(edge.httpsPort, path)), 404, `No route for ${path}`, path);
    }
    assert.equal((await send(edge.httpsPort, '/exact')).status, 200);
  });

  it('when the request target is not origin-form, then 400 in the contract shape and nothing reaches any backend', async () => {
    const other = edge.httpsPort; // any host:port a caller might aim at
    const targets = [
      `//127.0.0.1:${other}/actuator/health`,
      `http://127.0.0.1:${other}/product-composite/1`,
      'ftp://x/product-composite/1',
      'https://localhost/product-composite/1',
      'http://[',
      '/\\127.0.0.1/product-composite/1',
      '*',
      'localhost:7001',
    ];
    seen = [];
    for (const target of targets) {
      const answer = await sendRaw(
        edge.httpsPort,
        `GET ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
      );
      const body = JSON.parse(bodyOf(answer)) as Record<string, unknown>;
      assertContractError({ status: statusOf(answer), body }, 400, /origin-form|Malformed HTTP request/);
      assert.ok('requestId' in body, `${target}: the answer names its request`);
    }
    assert.deepEqual(seen, [], 'no backend was called');
  });

  it('when a request is malformed in any way, then a 4xx for each and the edge still serves the next request', async () => {
    const big = 'x'.repeat(40 * 1024);
    const table: Array<[string, string]> = [
      ['absolute-form ftp', 'GET ftp://x/product-composite/1 HTTP/1.1\r\nHost: localhost\r\n\r\n'],
      ['unparsable absolute target', 'GET http://[::1/product-composite HTTP/1.1\r\nHost: localhost\r\n\r\n'],
      ['CONNECT', 'CONNECT 127.0.0.1:7001 HTTP/1.1\r\nHost: 127.0.0.1:7001\r\n\r\n'],
      ['asterisk', 'OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n'],
      ['bad percent-encoding in the path', 'GET /product-composite/%zz HTTP/1.1\r\nHost: localhost\r\n\r\n'],
      ['bad percent-encoding in the query', 'GET /product-composite/1?a=%G1 HTTP/1.1\r\nHost: localhost\r\n\r\n'],
      [
        'non-numeric Content-Length',
        'POST /product-composite HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc\r\n\r\n',
      ],
      [
        'duplicate Content-Length',
        'POST /product-composite HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx',
      ],
      [
        'Content-Length with Transfer-Encoding',
        'POST /product-composite HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      ],
      [
        'Transfer-Encoding not ending in chunked',
        'POST /product-composite HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n',
      ],
      [
        'unknown Transfer-Encoding',
        'POST /product-composite HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip\r\n\r\n',
      ],
      ['huge header', `GET /product-composite/1 HTTP/1.1\r\nHost: localhost\r\nX-Big: ${big}\r\n\r\n`],
      ['header without a colon', 'GET /product-composite/1 HTTP/1.1\r\nHost: localhost\r\nnot a header\r\n\r\n'],
      ['control character in a header', 'GET /product-composite/1 HTTP/1.1\r\nHost: localhost\r\nX-A: a\x01b\r\n\r\n'],
      ['no Host', 'GET /product-composite/1 HTTP/1.1\r\n\r\n'],
      ['garbage request line', 'HELLO\r\n\r\n'],
    ];
    const failures: string[] = [];
    for (const [name, raw] of table) {
      // Connection: close is added where the request is well-formed enough for it to matter.
      const answer = await sendRaw(edge.httpsPort, raw.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'));
      const status = statusOf(answer);
      if (status < 400 || status > 499) failures.push(`${name}: ${answer.split('\r\n')[0] || '(no answer)'}`);
    }
    assert.deepEqual(failures, []);
    assert.equal((await send(edge.httpsPort, '/product-composite/1')).status, 200);
  });

  it('when a body is larger than the limit, then 413 whether its length is declared or streamed', async () => {
    assert.equal(
      (await send(edge.httpsPort, '/product-composite', { method: 'POST', body: 'x'.repeat(2000) })).status,
      413,
    );
    const chunked = await send(edge.httpsPort, '/product-composite', {
      method: 'POST',
      body: 'x'.repeat(5000),
      headers: { 'transfer-encoding': 'chunked' },
    });
    assertContractError(parsed(chunked), 413, /\S/, '/product-composite');
    seen = [];
    const small = await send(edge.httpsPort, '/product-composite', {
      method: 'POST',
      body: '{"a":1}',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(small.status, 200);
    assert.equal(seen[0]?.body, '{"a":1}');
  });

  it('when a request names headers in Connection or expects 100-continue, then neither reaches the backend, and its chunked body does, whole', async () => {
    seen = [];
    const body = 'y'.repeat(600);
    const answer = await sendRaw(
      edge.httpsPort,
      'POST /product-composite/in HTTP/1.1\r\nHost: localhost\r\nConnection: close, x-hop\r\nX-Hop: secret\r\n' +
        `Expect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n${(300).toString(16)}\r\n${body.slice(0, 300)}\r\n` +
        `${(300).toString(16)}\r\n${body.slice(300)}\r\n0\r\n\r\n`,
    );
    assert.match(answer, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    assert.equal(seen[0]?.body, body);
    assert.equal(seen[0]?.headers['x-hop'], undefined);
    assert.equal(seen[0]?.headers['expect'], undefined);
  });

  it('when an answer names headers in its Connection header, then the client gets the others but not those', async () => {
    const answer = await send(edge.httpsPort, '/product-composite/names-a-hop');
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['x-kept'], 'yes');
    assert.equal(answer.headers['x-hop'], undefined);
  });

  it('when an answer is larger than any buffer on the way, then it reaches the client whole', async () => {
    const answer = await send(edge.httpsPort, '/product-composite/large');
    assert.equal(answer.status, 200);
    assert.equal(answer.body.length, large.length);
    assert.equal(answer.body, large.toString());
  });

  it('when the client leaves before the backend answers, then the backend request is given up too', async () => {
    const before = heldClosed;
    const socket = connect({ host: '127.0.0.1', port: edge.httpsPort, rejectUnauthorized: false }, () =>
      socket.write('GET /product-composite/hold HTTP/1.1\r\nHost: localhost\r\n\r\n'),
    );
    socket.on('error', () => {});
    await sleep(200);
    socket.destroy();
    await eventually(() => assert.equal(heldClosed, before + 1));
  });

  it('when the backend is down, then 502 with the contract shape naming the service', async () => {
    const answer = await send(edge.httpsPort, '/down/x');
    assertContractError(parsed(answer), 502, 'nobody-home is unavailable', '/down/x');
  });

  it('when the backend answers too slowly, then 504', async () => {
    const answer = await send(edge.httpsPort, '/product-composite/slow');
    assertContractError(
      parsed(answer),
      504,
      'product-composite did not answer within 1000 ms',
      '/product-composite/slow',
    );
  });

  it('when plain HTTP is used, then a permanent redirect to HTTPS, except for ACME http-01 challenges', async () => {
    const redirect = await send(edge.httpPort, '/product-composite/1?a=b', {
      tls: false,
      headers: { host: 'minikube.me:8080' },
    });
    assert.equal(redirect.status, 308);
    assert.equal(redirect.headers['location'], `https://minikube.me:${edge.httpsPort}/product-composite/1?a=b`);
    edge.challenges.set('token-1', 'token-1.thumbprint');
    const challenge = await send(edge.httpPort, '/.well-known/acme-challenge/token-1', { tls: false });
    assert.equal(challenge.status, 200);
    assert.equal(challenge.body, 'token-1.thumbprint');
    assert.equal((await send(edge.httpPort, '/.well-known/acme-challenge/other', { tls: false })).status, 404);
  });

  it('when plain HTTP is used, then the redirect carries no HSTS (RFC 6797 8.1 forbids it over plain HTTP)', async () => {
    const redirect = await send(edge.httpPort, '/product-composite/1', { tls: false });
    assert.equal(redirect.status, 308);
    assert.equal(redirect.headers['strict-transport-security'], undefined);
  });

  it('when the Host of a plain HTTP request is not a configured name, then the redirect goes to the default name, never to that host', async () => {
    for (const host of ['evil', 'evil:8080', 'evil.example.com', '[::1]:8080', 'localhost.evil']) {
      const redirect = await send(edge.httpPort, '/product-composite/1?a=b', { tls: false, headers: { host } });
      assert.equal(redirect.status, 308, host);
      assert.equal(redirect.headers['location'], `https://localhost:${edge.httpsPort}/product-composite/1?a=b`, host);
    }
    const known = await send(edge.httpPort, '/x', { tls: false, headers: { host: 'LOCALHOST:8080' } });
    assert.equal(known.headers['location'], `https://localhost:${edge.httpsPort}/x`);
    const absolute = await send(edge.httpPort, 'http://evil/x', { tls: false });
    assert.equal(absolute.status, 400, 'a target naming a host is refused on the HTTP port too');
  });

  it('when the HTTP parser refuses a request on the HTTPS port, then its 400 or 431 carries HSTS; on the HTTP port it does not', async () => {
    const tooLarge = await sendRaw(
      edge.httpsPort,
      `GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'x'.repeat(40 * 1024)}\r\n\r\n`,
    );
    assert.equal(statusOf(tooLarge), 431);
    assert.match(tooLarge, /\r\nstrict-transport-security: max-age=\d+/i);
    const malformed = await sendRaw(edge.httpsPort, 'GET / HTTP/1.1\r\nHost: localhost\r\nnot a header\r\n\r\n');
    assert.equal(statusOf(malformed), 400);
    assert.match(malformed, /\r\nstrict-transport-security: max-age=\d+/i);
    const plain = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = netConnect(edge.httpPort, '127.0.0.1', () =>
        socket.write('GET / HTTP/1.1\r\nHost: localhost\r\nnot a header\r\n\r\n'),
      );
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', reject);
      socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
    });
    assert.equal(statusOf(plain), 400);
    assert.doesNotMatch(plain, /strict-transport-security/i);
  });

  it('when a client offers only TLS 1.0 or 1.1, then the handshake is refused; 1.2 and 1.3 work', async () => {
    const handshake = (minVersion: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3', maxVersion: typeof minVersion) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(
          {
            host: '127.0.0.1',
            port: edge.httpsPort,
            minVersion,
            maxVersion,
            rejectUnauthorized: false,
            ciphers: 'DEFAULT:@SECLEVEL=0',
          },
          () => {
            resolve(socket.getProtocol() ?? '');
            socket.end();
          },
        );
        socket.on('error', reject);
      });
    await assert.rejects(handshake('TLSv1', 'TLSv1'));
    await assert.rejects(handshake('TLSv1.1', 'TLSv1.1'));
    assert.equal(await handshake('TLSv1.2', 'TLSv1.2'), 'TLSv1.2');
    assert.equal(await handshake('TLSv1.3', 'TLSv1.3'), 'TLSv1.3');
  });

  it('when a TLS 1.2 client offers only CBC or non-ECDHE suites, then the handshake fails; ECDHE with AES-GCM or ChaCha20 works', async () => {
    const handshake = (ciphers: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(
          { host: '127.0.0.1', port: edge.httpsPort, maxVersion: 'TLSv1.2', ciphers, rejectUnauthorized: false },
          () => {
            resolve(socket.getCipher().name);
            socket.end();
          },
        );
        socket.on('error', reject);
      });
    for (const weak of [
      'ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES256-SHA:ECDHE-ECDSA-AES256-SHA:AES128-SHA:AES256-SHA',
      'AES128-GCM-SHA256:AES256-GCM-SHA384',
      'ECDHE-RSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA256',
    ]) {
      await assert.rejects(handshake(weak), weak);
    }
    for (const strong of [
      'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256',
      'ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305',
    ]) {
      assert.match(await handshake(strong), /^ECDHE-/);
    }
  });

  it('when the certificate is swapped, then new connections get the new one', async () => {
    const next = await createSelfSigned(['localhost', '127.0.0.1']);
    edge.useCertificate(next);
    const served = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: edge.httpsPort, rejectUnauthorized: false }, () => {
        resolve(socket.getPeerX509Certificate()?.toString() ?? '');
        socket.end();
      });
      socket.on('error', reject);
    });
    assert.equal(served.trim(), next.cert.trim());
  });
});

/** An edge whose every path goes to one backend served by handle. */
async function edgeBefore(
  handle: RequestListener,
  connectTimeoutMs: number,
  host = '127.0.0.1',
  logger: Logger = createLogger('edge-test', 'silent'),
  tracing?: Tracing,
): Promise<{ edge: Edge; backend: Server }> {
  const dir = mkdtempSync(join(tmpdir(), 'edge-one-backend-'));
  const backend = createServer(handle);
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  writeFileSync(
    join(dir, 'ingress.yaml'),
    'kind: Ingress\nspec: {rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: app, port: {number: 80}}}}]}}]}\n',
  );
  const edge = await startEdge(
    {
      host,
      httpsPort: 0,
      httpPort: 0,
      ingressFile: join(dir, 'ingress.yaml'),
      dataDir: join(dir, 'data'),
      backends: { app: `http://127.0.0.1:${(backend.address() as AddressInfo).port}` },
      certificateNames: ['localhost'],
      domains: [],
      managementHost: '127.0.0.1',
      managementPort: 0,
      bodyLimitBytes: 1000,
      connectTimeoutMs,
      responseTimeoutMs: 5000,
      headersTimeoutMs: 20000,
    },
    logger,
    undefined,
    undefined,
    tracing,
  );
  return { edge, backend };
}

describe('edge access log', () => {
  it("when requests pass the edge, then each writes one access line with method, path, status, duration, request id and the traceparent's trace id", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino(
      { level: 'info' },
      {
        write: (line: string) => {
          lines.push(JSON.parse(line) as Record<string, unknown>);
        },
      },
    );
    const { edge, backend } = await edgeBefore(
      (request, response) => {
        response.statusCode = request.url === '/missing' ? 404 : 200;
        response.end('ok');
      },
      1000,
      '127.0.0.1',
      logger,
    );
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    try {
      assert.equal(
        (
          await send(edge.httpsPort, '/x?secret=1', {
            headers: { 'x-request-id': 'req-1', traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
          })
        ).status,
        200,
      );
      assert.equal((await send(edge.httpsPort, '/missing', { headers: { 'x-request-id': 'req-2' } })).status, 404);
      await eventually(() => assert.equal(lines.filter((l) => l['msg'] === 'access').length, 2), {
        timeoutMs: 2000,
        intervalMs: 5,
      });
      const [first, second] = lines.filter((l) => l['msg'] === 'access');
      assert.deepEqual(
        { ...first, ms: typeof first?.['ms'] },
        { ...first, method: 'GET', path: '/x', status: 200, requestId: 'req-1', traceId, ms: 'number' },
      );
      assert.equal(second?.['status'], 404);
      assert.equal(second?.['requestId'], 'req-2');
      assert.equal('traceId' in (second ?? {}), false, 'no traceparent, no trace id');
    } finally {
      await edge.close();
      backend.close();
    }
  });
});

describe('edge access log with tracing on', () => {
  it('when a request carries no traceparent, then its access line names the trace the edge started, the one the backend is sent', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
    );
    const sent: string[] = [];
    const tracing = createTracing(
      'edge',
      { enabled: true, sampleRatio: 1, store: { maxTraces: 0, maxSpansPerTrace: 1 } },
      {},
    );
    const { edge, backend } = await edgeBefore(
      (request, response) => {
        sent.push(String(request.headers['traceparent']));
        response.end('ok');
      },
      1000,
      '127.0.0.1',
      logger,
      tracing,
    );
    try {
      assert.equal((await send(edge.httpsPort, '/x')).status, 200);
      await eventually(() => assert.equal(lines.filter((l) => l['msg'] === 'access').length, 1), {
        timeoutMs: 2000,
        intervalMs: 5,
      });
      const traceId = lines.find((l) => l['msg'] === 'access')?.['traceId'];
      assert.match(String(traceId), /^[0-9a-f]{32}$/);
      assert.equal(sent[0]?.split('-')[1], traceId);
    } finally {
      await edge.close();
      backend.close();
      await tracing.shutdown();
    }
  });
});

describe('edge with kept-alive backend connections', () => {
  it('when a backend connection is reused, then a slow answer is limited by the response timeout, not the connect timeout', async () => {
    const { edge, backend } = await edgeBefore((_request, response) => {
      // An answer slower than the 300 ms connect timeout is the case under test.
      setTimeout(() => response.end('slow'), 600);
    }, 300);
    try {
      for (let i = 0; i < 3; i++) assert.equal((await send(edge.httpsPort, '/x')).status, 200, `request ${i + 1}`);
    } finally {
      await edge.close();
      backend.close();
    }
  });
});

describe('edge shutdown under keep-alive load', () => {
  it('when the edge closes while 16 keep-alive clients send requests, then every request sent is answered and close finishes', async () => {
    const { edge, backend } = await edgeBefore((_request, response) => {
      // A little work per request, so requests are in flight when the edge closes.
      setTimeout(() => response.end('ok'), 2);
    }, 1000);
    try {
      const load = keepAliveLoad({ clients: 16, port: edge.httpsPort, path: '/x' });
      await eventually(() => assert.ok(load.result.answered >= 300), { timeoutMs: 20000, intervalMs: 5 });
      await edge.close();
      const result = await load.finished;
      process.stdout.write(`edge closed under keep-alive load: ${JSON.stringify(result)}\n`);
      assert.deepEqual(load.errors, []);
      assert.equal(result.failed, 0);
    } finally {
      backend.close();
    }
  });
});

describe('edge listening on every interface', () => {
  it('when the edge runs with its default host, then clients reach both ports over IPv4 and IPv6', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edge-dual-'));
    writeFileSync(
      join(dir, 'ingress.yaml'),
      'kind: Ingress\nspec: {rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: none, port: {number: 80}}}}]}}]}\n',
    );
    const config = loadConfig(edgeConfigSchema, {
      service: 'edge',
      env: { CONFIG_LOCATION: join(repositoryRoot, 'config-repo') },
    });
    assert.equal(config.edge.host, '::');
    const edge = await startEdge(
      { ...config.edge, httpsPort: 0, httpPort: 0, ingressFile: join(dir, 'ingress.yaml'), dataDir: join(dir, 'data') },
      createLogger('edge-test', 'silent'),
    );
    try {
      for (const host of ['127.0.0.1', '::1']) {
        const redirect = await new Promise<number>((resolve, reject) => {
          httpRequest({ host, port: edge.httpPort, path: '/' }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
            .on('error', reject)
            .end();
        });
        assert.equal(redirect, 308, `HTTP over ${host}`);
        const protocol = await new Promise<string>((resolve, reject) => {
          const socket = connect({ host, port: edge.httpsPort, rejectUnauthorized: false }, () => {
            resolve(socket.getProtocol() ?? '');
            socket.end();
          });
          socket.on('error', reject);
        });
        assert.match(protocol, /^TLSv1\.[23]$/, `HTTPS over ${host}`);
      }
    } finally {
      await edge.close();
    }
  });
});

describe('edge on :: with an IPv4 client', () => {
  it('when an IPv4 client calls the dual-stack edge, then X-Forwarded-For names its plain IPv4 address, not the IPv4-mapped one', async () => {
    let forwardedFor: unknown;
    const { edge, backend } = await edgeBefore(
      (request, response) => {
        forwardedFor = request.headers['x-forwarded-for'];
        response.end('ok');
      },
      1000,
      '::',
    );
    try {
      assert.equal((await send(edge.httpsPort, '/x')).status, 200);
      assert.equal(forwardedFor, '127.0.0.1');
    } finally {
      await edge.close();
      backend.close();
    }
  });
});

describe('development certificate', () => {
  it('is generated on first run, kept across restarts, and covers the configured names', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edge-cert-'));
    const first = await loadOrCreateDevCertificate(dir, ['localhost', '127.0.0.1']);
    const again = await loadOrCreateDevCertificate(dir, ['localhost', '127.0.0.1']);
    assert.equal(again.cert, first.cert);
    const other = await loadOrCreateDevCertificate(dir, ['localhost', 'minikube.me']);
    assert.notEqual(other.cert, first.cert, 'a new name makes a new certificate');
    const { X509Certificate } = await import('node:crypto');
    const parsed = new X509Certificate(other.cert);
    assert.ok(parsed.checkHost('minikube.me'));
  });
});
