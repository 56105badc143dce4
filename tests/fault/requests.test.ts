// Generated raw requests against the edge and against every service directly: whatever arrives, the
// answer is a 4xx (or the HTTP parser's own 400/431/505) or a success, never a 5xx, never a connection
// dropped without a response, and the next ordinary request is served.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { rawRequest, type RawAnswer } from './http.ts';
import { startInProcessLandscape, type InProcessLandscape } from './landscape.ts';
import { runs, seed } from './settings.ts';
import { recordRow } from './summary.ts';

const token = fc.constantFrom(
  'GET',
  'POST',
  'PUT',
  'DELETE',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'TRACE',
  'CONNECT',
  'PRI',
  'G\tET',
  'get',
  'XYZZY',
);
const segment = fc.oneof(
  fc.constantFrom(
    'product-composite',
    'product',
    'recommendation',
    'review',
    'oauth',
    'token',
    'jwks',
    'authorize',
    'actuator',
    'health',
    'readiness',
    'prometheus',
    '.well-known',
    'openid-configuration',
    'openapi.json',
    'openapi',
    '1',
    '-1',
    '13',
    '0',
    'abc',
    '..',
    '.',
    '%zz',
    '%',
    '%00',
    '%2e%2e',
    '%2F',
    '%C0%AF',
    '%ff%fe',
    '\u00e9',
    '\u{1F600}',
    '9'.repeat(40),
    '1e309',
    'NaN',
    '',
  ),
  fc.string({ maxLength: 12 }),
);
const query = fc.oneof(
  fc.constant(''),
  fc.constantFrom(
    '?productId=1',
    '?productId=',
    '?productId=abc',
    '?productId=-1',
    '?productId=1&productId=2',
    '?%zz=1',
    '?a=%',
    '?=',
    '?&&',
    '?productId[]=1',
    '?productId=99999999999999999999',
    '?grant_type=x',
  ),
);
const originPath = fc
  .tuple(fc.array(segment, { minLength: 0, maxLength: 5 }), query)
  .map(([parts, q]) => `/${parts.join('/')}${q}`);
const target = fc.oneof(
  { weight: 5, arbitrary: originPath },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom('http', 'https', 'ftp', 'file', 'gopher', 'javascript', 'ws', 'x-y', 'HTTP'),
        fc.constantFrom('x', '127.0.0.1:7001', 'localhost', '[::1]:9999', 'evil.example', ''),
        originPath,
      )
      .map(([scheme, host, path]) => `${scheme}://${host}${path}`),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('127.0.0.1:7001', 'localhost:8081', 'evil.example', ''), originPath)
      .map(([host, path]) => `//${host}${path}`),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '127.0.0.1:7001',
      'localhost:443',
      'evil.example:80',
      '*',
      '',
      ' ',
      '\\',
      'product-composite/1',
      '/\u0000',
      `/${'a'.repeat(9000)}`,
      'http://[',
      'http://a b/',
      'https://:x/',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
);
const version = fc.constantFrom(
  'HTTP/1.1',
  'HTTP/1.1',
  'HTTP/1.1',
  'HTTP/1.0',
  'HTTP/2.0',
  'HTTP/0.9',
  'HTTP/1.2',
  'HTP/1.1',
  '',
);
const header = fc.oneof(
  fc.constantFrom(
    'Host: evil.example',
    'Host:',
    'Host: localhost',
    'Host: a b',
    'Host: localhost:99999',
    'X-Forwarded-Host: evil.example',
    'X-Forwarded-Proto: gopher',
    'Forwarded: for=1.2.3.4;host=evil',
    'Expect: 100-continue',
    'Expect: nonsense',
    'Connection: upgrade',
    'Upgrade: websocket',
    'Upgrade: h2c',
    'Content-Type: application/json',
    'Content-Type: text/plain',
    'Content-Type: application/x-www-form-urlencoded',
    'Content-Type: multipart/form-data; boundary=x',
    'Content-Encoding: gzip',
    'Accept: */*',
    'Range: bytes=0-1',
    'Authorization: Bearer x',
    'Authorization: Basic %%%',
    `Authorization: Basic ${Buffer.from('writer:').toString('base64')}`,
    'Authorization:',
    'Cookie: _interaction=../../x',
    'Transfer-Encoding: gzip',
    'Transfer-Encoding: chunked, identity',
    'Transfer-Encoding: identity',
    'Content-Length: -1',
    'Content-Length: abc',
    'Content-Length: 1, 2',
    'Content-Length: 99999999999999999999',
    'Bad Header: x',
    'Bad\u0000Name: x',
    'X: \u0000',
    'X: \u00ff\u00fe',
    ': empty',
    ' leading: space',
    'X-Folded: a\r\n b',
    `X-Huge: ${'h'.repeat(20000)}`,
    'Max-Forwards: 0',
    'Via: 1.1 loop',
  ),
  fc
    .tuple(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/), fc.string({ maxLength: 40 }))
    .map(([name, value]) => `${name}: ${value.replace(/[\r\n]/g, '')}`),
);
const body = fc.oneof(
  fc.constant(''),
  fc.constantFrom('{"productId":1}', '{', '[]', 'null', 'grant_type=client_credentials', '\u0000\u0001'),
  fc.string({ maxLength: 200 }),
);
const framing = fc.constantFrom('length', 'length', 'none', 'chunked', 'chunked+length', 'double-length');

interface Generated {
  method: string;
  target: string;
  version: string;
  headers: string[];
  body: string;
  framing: string;
  withHost: boolean;
}
const request = fc.record({
  method: token,
  target,
  version,
  headers: fc.array(header, { maxLength: 6 }),
  body,
  framing,
  withHost: fc.boolean(),
});

/** The bytes of a generated request, always complete as far as its own framing goes. */
function encode(r: Generated, authorization: string | undefined): string {
  const lines = [`${r.method} ${r.target} ${r.version}`.trimEnd()];
  if (r.withHost) lines.push('Host: localhost');
  if (authorization) lines.push(`Authorization: Bearer ${authorization}`);
  lines.push(...r.headers);
  const bytes = Buffer.byteLength(r.body);
  let payload = '';
  if (r.framing === 'length') {
    lines.push(`Content-Length: ${bytes}`);
    payload = r.body;
  }
  if (r.framing === 'double-length') {
    lines.push(`Content-Length: ${bytes}`, `Content-Length: ${bytes + 1}`);
    payload = r.body;
  }
  if (r.framing === 'chunked' || r.framing === 'chunked+length') {
    lines.push('Transfer-Encoding: chunked');
    if (r.framing === 'chunked+length') lines.push(`Content-Length: ${bytes}`);
    payload = `${bytes > 0 ? `${bytes.toString(16)}\r\n${r.body}\r\n` : ''}0\r\n\r\n`;
  }
  return `${lines.join('\r\n')}\r\n\r\n${payload}`;
}

/** Only an answer in the 2xx–4xx range counts; a request whose declared body never came may wait instead. */
function acceptable(r: Generated, answer: RawAnswer): boolean {
  if (answer.status !== undefined) return answer.status < 500;
  // A request line without a version is HTTP/0.9's, whose responses have no status line to read.
  if (r.version === '' && answer.outcome === 'closed') return true;
  const waitsForBody =
    r.headers.some((h) => /^Content-Length: 9{5,}/.test(h)) || r.headers.some((h) => /^Expect: 100-continue/i.test(h));
  return answer.outcome === 'timeout' && waitsForBody;
}

interface Target {
  name: string;
  port: () => number;
  tls?: boolean;
  healthy: string;
}

describe('fault suite: generated raw requests', () => {
  let landscape: InProcessLandscape;
  let reader: string;
  before(async () => {
    landscape = await startInProcessLandscape();
    reader = await landscape.token('reader', 'product:read');
  });
  after(async () => {
    await landscape?.close();
  });

  const port = (url: string) => Number(new URL(url).port);
  const targets: Array<Target & { count: number }> = [
    { name: 'edge (https)', port: () => landscape.edge.httpsPort, tls: true, healthy: '/actuator/health', count: 1500 },
    { name: 'edge (http)', port: () => landscape.edge.httpPort, healthy: '/.well-known/acme-challenge/x', count: 200 },
    { name: 'product-composite', port: () => port(landscape.urls.composite), healthy: '/actuator/health', count: 300 },
    { name: 'product', port: () => port(landscape.urls.product), healthy: '/actuator/health', count: 300 },
    {
      name: 'recommendation',
      port: () => port(landscape.urls.recommendation),
      healthy: '/actuator/health',
      count: 300,
    },
    { name: 'review', port: () => port(landscape.urls.review), healthy: '/actuator/health', count: 300 },
    { name: 'auth-server', port: () => port(landscape.urls.auth), healthy: '/actuator/health', count: 300 },
    { name: 'web', port: () => port(landscape.urls.web), healthy: '/actuator/health', count: 300 },
  ];

  for (const t of targets) {
    it(`when ${t.name} gets thousands of generated requests, then each is answered below 500 and the next request is served`, async () => {
      let attempts = 0;
      const failures: string[] = [];
      await fc.assert(
        fc.asyncProperty(request, fc.boolean(), async (r, authorized) => {
          attempts += 1;
          // The fault parameters are product's deliberate 500; they are not what this row is about.
          if (/delay|faultPercent/i.test(r.target)) return;
          const answer = await rawRequest(
            { port: t.port(), tls: t.tls },
            encode(r, authorized ? reader : undefined),
            2000,
          );
          if (!acceptable(r, answer)) {
            failures.push(
              `${answer.status ?? answer.outcome} for ${JSON.stringify(encode(r, undefined).slice(0, 300))}`,
            );
          }
        }),
        { seed: seed + targets.indexOf(t), numRuns: runs(t.count) },
      );
      const next = await rawRequest(
        { port: t.port(), tls: t.tls },
        `GET ${t.healthy} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
      );
      recordRow({
        row: `raw requests: ${t.name}`,
        attempts,
        failures: failures.length + (next.status === undefined ? 1 : 0),
      });
      assert.deepEqual(failures.slice(0, 20), [], `${failures.length} of ${attempts} requests failed`);
      assert.ok(
        next.status !== undefined && next.status < 500,
        `still serving after the run: ${next.status ?? next.outcome}`,
      );
    });
  }
});
