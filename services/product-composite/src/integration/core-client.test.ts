import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { HttpError } from '@landscape/platform';
import { CallTimeoutError, createCoreClient, type CoreClient } from './core-client.ts';
import type { ClientCallRecorder } from '@landscape/platform';

describe('the client of the core services', () => {
  let server: Server;
  let client: CoreClient;
  const seen: string[] = [];
  const answers: Record<string, [number, unknown]> = {
    '/base/product/1': [200, { productId: 1, name: 'p', weight: 1, serviceAddress: 'h/1:1' }],
    '/base/product/2': [200, { productId: 2, name: 'p', weight: 'heavy', serviceAddress: 'h/1:1' }],
    '/base/product/3': [404, { message: 'No product found for productId: 3' }],
    '/recommendation?productId=1': [200, []],
  };

  before(async () => {
    server = createServer((request, response) => {
      seen.push(request.url ?? '');
      const [status, body] = answers[request.url ?? ''] ?? [500, { message: 'unexpected' }];
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    client = createCoreClient(
      { productUrl: `${base}/base/`, recommendationUrl: base, reviewUrl: base },
      { timeoutMs: 2000 },
    );
  });
  after(async () => {
    await client.close();
    server.close();
  });

  it("when a core service answers its contract, then the answer is returned, and a base URL's path is kept", async () => {
    assert.deepEqual(await client.getProduct(1), { productId: 1, name: 'p', weight: 1, serviceAddress: 'h/1:1' });
    assert.deepEqual(await client.getRecommendations(1), []);
    assert.deepEqual(seen.slice(0, 2), ['/base/product/1', '/recommendation?productId=1']);
  });

  it('when a core service answers a body outside its contract, then 502 naming that service', async () => {
    await assert.rejects(client.getProduct(2), (error: unknown) => {
      assert.ok(error instanceof HttpError);
      assert.equal(error.status, 502);
      assert.match(error.message, /^127\.0\.0\.1:\d+ answered a body that does not match its contract$/);
      return true;
    });
  });

  it('when a core service answers 4xx, then its status and message are passed on', async () => {
    await assert.rejects(
      client.getProduct(3),
      (error: unknown) =>
        error instanceof HttpError && error.status === 404 && error.message === 'No product found for productId: 3',
    );
  });
});

describe('the client of the core services, when a core service misbehaves', () => {
  let server: TcpServer;
  let client: CoreClient;
  let closedPort: number;
  const sockets = new Set<Socket>();
  const recorded: Parameters<ClientCallRecorder>[0][] = [];
  // What the raw server writes for each product id; the sockets stay open unless the answer closes them.
  const behaviour: Record<string, (socket: Socket) => void> = {
    '/product/10': () => {},
    '/product/11': (socket) =>
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"productId"'),
    '/product/12': (socket) =>
      socket.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"productId"'),
    '/product/13': (socket) =>
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\r\nhello'),
    '/product/14': (socket) => socket.write('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n'),
  };

  before(async () => {
    server = createTcpServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('data', (data) => behaviour[data.toString('latin1').split(' ')[1] ?? '']?.(socket));
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const closed = createTcpServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    closedPort = (closed.address() as AddressInfo).port;
    await new Promise((done) => closed.close(done));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    client = createCoreClient(
      { productUrl: base, recommendationUrl: base, reviewUrl: `http://127.0.0.1:${closedPort}` },
      { timeoutMs: 300, record: (call) => recorded.push(call) },
    );
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await client.close();
    server.close();
  });

  it('when it never answers, then the call fails with the timeout message, recorded as a timeout', async () => {
    await assert.rejects(client.getProduct(10), CallTimeoutError);
    assert.deepEqual(recorded.at(-1)?.errorType, 'timeout');
    assert.equal(recorded.at(-1)?.status, undefined);
  });

  it('when its body stops coming after the status, then the call times out, recorded with that status', async () => {
    await assert.rejects(
      client.getProduct(11),
      (error: unknown) => error instanceof CallTimeoutError && /within 300ms/.test(error.message),
    );
    assert.equal(recorded.at(-1)?.errorType, 'timeout');
    assert.equal(recorded.at(-1)?.status, 200);
  });

  it('when its body is cut short or is not JSON, then 502: the host answered without a JSON body', async () => {
    for (const productId of [12, 13]) {
      await assert.rejects(client.getProduct(productId), (error: unknown) => {
        assert.ok(error instanceof HttpError);
        assert.equal(error.status, 502);
        assert.match(error.message, /^127\.0\.0\.1:\d+ answered 200 without a JSON body$/);
        return true;
      });
      assert.deepEqual(recorded.at(-1)?.errorType, 'invalid_response');
    }
  });

  it('when it answers 5xx without a body, then 502 saying so, recorded with its status', async () => {
    await assert.rejects(
      client.getProduct(14),
      (error: unknown) =>
        error instanceof HttpError && error.status === 502 && /answered 503 without a JSON body$/.test(error.message),
    );
    assert.equal(recorded.at(-1)?.status, 503);
  });

  it('when nothing listens, then 502 saying the host is unreachable, recorded as unreachable', async () => {
    await assert.rejects(client.getReviews(1), (error: unknown) => {
      assert.ok(error instanceof HttpError);
      assert.equal(error.status, 502);
      assert.match(error.message, new RegExp(`^127\\.0\\.0\\.1:${closedPort} unreachable: `));
      return true;
    });
    assert.equal(recorded.at(-1)?.errorType, 'unreachable');
  });
});
