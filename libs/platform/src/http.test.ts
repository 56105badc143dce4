import assert from 'node:assert/strict';
import { connect, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { createHttpApp } from './http.ts';
import { Health } from './health.ts';
import { createLogger } from './log.ts';
import { assertContractError } from './testing/contract.ts';

/** Raw bytes to the app and everything it answered until it closed the connection. */
function sendRaw(port: number, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => socket.write(raw));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
}

describe('the HTTP bootstrap with malformed requests', () => {
  let app: FastifyInstance;
  let port: number;
  before(async () => {
    app = createHttpApp({ logger: createLogger('http-test', 'silent'), health: new Health(), info: {} });
    app.get('/product/:id', async () => ({ ok: true }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  });
  after(() => app.close());

  const cases: Array<[string, string, number]> = [
    ['bad percent-encoding in the path', 'GET /product/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 400],
    ['an unparsable absolute target', 'GET http://[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 400],
    ['a header line without a colon', 'GET /product/1 HTTP/1.1\r\nHost: x\r\nnot a header\r\n\r\n', 400],
    [
      'headers larger than the limit',
      `GET /product/1 HTTP/1.1\r\nHost: x\r\nX-Big: ${'x'.repeat(40 * 1024)}\r\n\r\n`,
      431,
    ],
  ];
  for (const [name, raw, status] of cases) {
    it(`when a request has ${name}, then ${status} in the contract shape, and the next request is served`, async () => {
      const answer = await sendRaw(port, raw);
      assert.match(answer, new RegExp(`^HTTP/1\\.1 ${status} `), answer);
      assertContractError({ status, body: JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) }, status, /\S/);
      const next = await sendRaw(port, 'GET /product/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.match(next, /^HTTP\/1\.1 200 /);
    });
  }
});

describe('the request log of a service', () => {
  const linesAt = async (level: 'info' | 'debug') => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino(
      { level },
      {
        write: (line: string) => {
          lines.push(JSON.parse(line) as Record<string, unknown>);
        },
      },
    );
    const app = createHttpApp({ logger, health: new Health(), info: {} });
    app.get('/product/:id', async () => ({ ok: true }));
    try {
      assert.equal(
        (await app.inject({ method: 'GET', url: '/product/1', headers: { 'x-request-id': 'req-7' } })).statusCode,
        200,
      );
    } finally {
      await app.close();
    }
    return lines;
  };

  it('when the level is info, then a request writes no line: the edge keeps the access log', async () => {
    assert.deepEqual(await linesAt('info'), []);
  });

  it('when the level is debug, then a request writes one line with its method, url, status, duration and id', async () => {
    const lines = await linesAt('debug');
    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.['msg'], 'request');
    assert.equal(lines[0]?.['reqId'], 'req-7');
    assert.equal(lines[0]?.['method'], 'GET');
    assert.equal(lines[0]?.['url'], '/product/1');
    assert.equal(lines[0]?.['status'], 200);
    assert.equal(typeof lines[0]?.['ms'], 'number');
  });
});
