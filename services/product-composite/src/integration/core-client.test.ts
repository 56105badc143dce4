import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { HttpError } from '@landscape/platform';
import { createCoreClient, type CoreClient } from './core-client.ts';

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
