import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createEvent } from '@landscape/api';
import pg from 'pg';
import {
  assertServiceMetrics,
  assertContractError,
  eventually,
  startForTest,
  testDatabaseName,
  type Engine,
  type TestService,
} from '@landscape/platform/testing';
import { productService } from './service.ts';

const startProduct = (engine: Engine, extra: Record<string, string> = {}) =>
  startForTest(productService, engine, { destination: 'products', group: 'productsGroup' }, extra);

type Started = TestService;

for (const engine of ['sqlite', 'postgres', 'mysql'] as const) {
  describe(`product on ${engine}`, () => {
    let product: Started;
    before(async () => {
      product = await startProduct(engine);
    });
    after(async () => {
      await product.stop();
    });

    it('when a CREATE event arrives, then GET /product/{id} answers the product with its serviceAddress', async () => {
      await product.publish(createEvent('CREATE', 1, { productId: 1, name: 'name-1', weight: 1 }));
      const { body } = await eventually(async () => {
        const answer = await product.get('/product/1');
        assert.equal(answer.status, 200);
        return answer;
      });
      assert.deepEqual(
        { ...body, serviceAddress: undefined },
        { productId: 1, name: 'name-1', weight: 1, serviceAddress: undefined },
      );
      assert.match(String(body['serviceAddress']), /^.+\/[\d.]+:\d+$/);
    });

    /** Publishes a CREATE and waits until the product answers. */
    const created = async (productId: number, name: string) => {
      await product.publish(createEvent('CREATE', productId, { productId, name, weight: productId }));
      await eventually(async () => assert.equal((await product.get(`/product/${productId}`)).status, 200));
    };

    it('when the same CREATE is delivered again, then nothing changes and nothing is dead-lettered', async () => {
      const before = product.deadLetters().length;
      await created(21, 'name-21');
      await product.publish(createEvent('CREATE', 21, { productId: 21, name: 'name-21', weight: 21 }));
      await created(22, 'name-22');
      assert.equal((await product.get('/product/21')).body['name'], 'name-21');
      assert.deepEqual(product.deadLetters().slice(before), []);
    });

    it('when a conflicting CREATE arrives for an existing product, then it is dead-lettered as a duplicate key and the stored product stays', async () => {
      await created(31, 'name-31');
      const before = product.deadLetters().length;
      await product.publish(createEvent('CREATE', 31, { productId: 31, name: 'other', weight: 9 }));
      const [dead] = await eventually(() => {
        assert.equal(product.deadLetters().length, before + 1);
        return product.deadLetters().slice(before);
      });
      assert.equal(dead?.reason, 'Duplicate key, Product Id: 31');
      assert.equal((await product.get('/product/31')).body['name'], 'name-31');
    });

    it('when CREATE, DELETE and CREATE for one product are published back to back, then they are applied in that order', async () => {
      const before = product.deadLetters().length;
      await product.publish(
        createEvent('CREATE', 41, { productId: 41, name: 'first', weight: 41 }),
        createEvent('DELETE', 41),
        createEvent('CREATE', 41, { productId: 41, name: 'second', weight: 41 }),
        createEvent('CREATE', 42, { productId: 42, name: 'marker', weight: 42 }),
      );
      await eventually(async () => assert.equal((await product.get('/product/42')).status, 200));
      assert.equal((await product.get('/product/41')).body['name'], 'second');
      assert.deepEqual(product.deadLetters().slice(before), [], 'nothing dead-lettered');
    });

    it('when a DELETE arrives, then the product is gone, and a repeated DELETE changes nothing', async () => {
      await created(51, 'name-51');
      const before = product.deadLetters().length;
      await product.publish(createEvent('DELETE', 51), createEvent('DELETE', 51), createEvent('DELETE', 999));
      const gone = await eventually(async () => {
        const answer = await product.get('/product/51');
        assert.equal(answer.status, 404);
        return answer;
      });
      assertContractError(gone, 404, 'No product found for productId: 51', '/product/51');
      assert.deepEqual(product.deadLetters().slice(before), []);
    });

    it('when an event is malformed, then it is dead-lettered with the reason and later events still apply', async () => {
      const before = product.deadLetters().length;
      await product.publish(
        { eventType: 'UPDATE', key: 5, data: null, eventCreatedAt: 'now' },
        { eventType: 'CREATE', key: 5, data: { productId: 5, name: '', weight: 1 }, eventCreatedAt: 'now' },
        { eventType: 'CREATE', key: 5, data: { productId: 6, name: 'n', weight: 1 }, eventCreatedAt: 'now' },
        { eventType: 'CREATE', key: 5, data: null, eventCreatedAt: 'now' },
        'not an object',
        createEvent('CREATE', 7, { productId: 7, name: 'after', weight: 7 }),
      );
      await eventually(async () => assert.equal((await product.get('/product/7')).status, 200));
      const reasons = product
        .deadLetters()
        .slice(before)
        .map((d) => d.reason);
      assert.equal(reasons.length, 5);
      assert.equal(reasons[0], 'Unknown event type: "UPDATE"');
      assert.match(reasons[1] ?? '', /^Invalid CREATE event: \/data\/name/);
      assert.equal(reasons[2], 'Invalid CREATE event: key 5 does not match data.productId 6');
      assert.match(reasons[3] ?? '', /^Invalid CREATE event/);
      assert.equal(reasons[4], 'Unknown event type: null');
    });

    it("when /actuator/prometheus is scraped, then it counts GET /product/{productId} under its template, its consumer's events and its pool", async () => {
      await created(61, 'name-61');
      // A duplicate too, so the dead-letter and retry counters have something to count.
      const before = product.deadLetters().length;
      await product.publish(createEvent('CREATE', 61, { productId: 61, name: 'other', weight: 61 }));
      await eventually(() => assert.equal(product.deadLetters().length, before + 1));
      await assertServiceMetrics({
        base: product.service.url,
        path: '/product/61',
        route: '/product/:productId',
        queue: { destination: 'products', group: 'productsGroup' },
        engine,
        service: 'product',
        deadLetters: product.deadLetters().length,
      });
    });
  });
}

/** Changes the product test database behind the service's back, as an administrator would. */
async function alterProducts(statement: string): Promise<void> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port: 5432,
    user: 'postgres',
    database: testDatabaseName('product'),
  });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

describe('product on postgres, when the database refuses what an event carries', () => {
  let product: Started;
  before(async () => {
    product = await startProduct('postgres');
    // A column narrower than the schema allows, so a valid event still carries a value the server refuses.
    await alterProducts('ALTER TABLE products ALTER COLUMN name TYPE VARCHAR(5)');
  });
  after(async () => {
    await product.stop();
  });

  it('when the server refuses a value, then the event is dead-lettered with the reason and the next product is applied', async () => {
    await product.publish(
      createEvent('CREATE', 1, { productId: 1, name: 'too long', weight: 1 }),
      createEvent('CREATE', 2, { productId: 2, name: 'fine', weight: 2 }),
    );
    await eventually(async () => assert.equal((await product.get('/product/2')).status, 200));
    assert.deepEqual(
      product.deadLetters().map((d) => d.reason),
      ['Refused by the database: value too long for type character varying(5)'],
    );
    assert.equal((await product.get('/product/1')).status, 404);
  });

  it('when an event published straight to the bus carries U+0000, then it is dead-lettered naming the field and the next product is applied', async () => {
    const before = product.deadLetters().length;
    await product.publish(
      { eventType: 'CREATE', key: 3, data: { productId: 3, name: 'a\u0000b', weight: 3 }, eventCreatedAt: 'now' },
      createEvent('CREATE', 4, { productId: 4, name: 'fine', weight: 4 }),
    );
    await eventually(async () => assert.equal((await product.get('/product/4')).status, 200));
    assert.deepEqual(
      product
        .deadLetters()
        .slice(before)
        .map((d) => d.reason),
      ['Invalid CREATE event: /data/name contains U+0000 (NUL), which cannot be stored'],
    );
  });
});

describe('product readiness, when its consumer is held up by the infrastructure', () => {
  let product: Started;
  // Stuck as soon as it pauses, so the test waits for no clock.
  before(async () => {
    product = await startProduct('postgres', { MESSAGING_STUCK_AFTER_MS: '0', MESSAGING_INFRA_RETRY_MAX_MS: '200' });
  });
  after(async () => {
    await product.stop();
  });

  it('when the consumer cannot apply events although the database answers, then readiness is DOWN naming it, and UP once it recovers', async () => {
    assert.equal((await product.get('/actuator/health/readiness')).status, 200);
    await alterProducts('ALTER TABLE products RENAME TO products_away');
    await product.publish(createEvent('CREATE', 1, { productId: 1, name: 'held', weight: 1 }));
    const down = await eventually(async () => {
      const answer = await product.get('/actuator/health/readiness');
      assert.equal(answer.status, 503);
      return answer.body as {
        status: string;
        components: Record<string, { status: string; details: Record<string, unknown> }>;
      };
    });
    assert.equal(down.status, 'DOWN');
    assert.equal(down.components['db']?.status, 'UP');
    assert.deepEqual(down.components['messaging']?.details['stuck'], ['products.productsGroup']);
    assert.match(
      String(down.components['messaging']?.details['error']),
      /^consumer products\.productsGroup is held up by the infrastructure: relation "products" does not exist/,
    );
    await alterProducts('ALTER TABLE products_away RENAME TO products');
    await eventually(async () => assert.equal((await product.get('/product/1')).status, 200));
    assert.equal((await product.get('/actuator/health/readiness')).status, 200);
    assert.deepEqual(product.deadLetters(), []);
  });
});

describe('product HTTP contract', () => {
  let product: Started;
  before(async () => {
    product = await startProduct('sqlite');
    await product.publish(createEvent('CREATE', 1, { productId: 1, name: 'name-1', weight: 1 }));
    await eventually(async () => assert.equal((await product.get('/product/1')).status, 200));
  });
  after(async () => {
    await product.stop();
  });

  const expectError = async (path: string, status: number, message: string | RegExp) => {
    assertContractError(await product.get(path), status, message, path.split('?')[0]);
  };

  it('when the product does not exist, then 404 "No product found for productId: 13"', () =>
    expectError('/product/13', 404, 'No product found for productId: 13'));

  it('when productId is below 1, then 422 "Invalid productId: <id>"', async () => {
    await expectError('/product/-1', 422, 'Invalid productId: -1');
    await expectError('/product/0', 422, 'Invalid productId: 0');
  });

  it('when productId is not a 32-bit integer, then 400 "Type mismatch."', async () => {
    for (const id of [
      'invalidProductId',
      '1.5',
      '1e3',
      '0x10',
      '%20',
      '123456789012345678901234567890',
      '2147483648',
      '-2147483649',
    ]) {
      await expectError(`/product/${id}`, 400, 'Type mismatch.');
    }
  });

  it('when the query carries an unknown or repeated parameter, then 400 naming the problem', async () => {
    await expectError('/product/1?foo=bar', 400, 'Unknown query parameter: foo');
    await expectError('/product/1?delay=1&delay=2', 400, 'Type mismatch.');
  });

  it('when faults are enabled, then faultPercent=100 answers 500 "Something went wrong..." and bad values are 4xx', async () => {
    await expectError('/product/1?faultPercent=100', 500, 'Something went wrong...');
    await expectError('/product/1?faultPercent=101', 422, 'Invalid faultPercent: 101');
    await expectError('/product/1?faultPercent=-1', 422, 'Invalid faultPercent: -1');
    await expectError('/product/1?delay=abc', 400, 'Type mismatch.');
    await expectError('/product/1?delay=100000', 422, 'Invalid delay: 100000');
    assert.equal((await product.get('/product/1?delay=0&faultPercent=0')).status, 200);
    assert.equal((await product.get('/product/1?delay=1')).status, 200);
  });

  it('when the path is unknown, then 404 in the same error shape', () =>
    expectError('/nothing/here', 404, /No route for GET \/nothing\/here/));

  it('when asked for health, then liveness, readiness and the overall report with components answer UP', async () => {
    assert.deepEqual((await product.get('/actuator/health/liveness')).body, { status: 'UP' });
    const readiness = await product.get('/actuator/health/readiness');
    assert.equal(readiness.status, 200);
    assert.equal(readiness.body['status'], 'UP');
    const health = await product.get('/actuator/health');
    const components = health.body['components'] as Record<string, { status: string }>;
    assert.equal(components['db']?.status, 'UP');
    assert.equal(components['messaging']?.status, 'UP');
    assert.deepEqual((await product.get('/actuator/info')).body['app'], { name: 'product' });
  });
});

describe('product with fault injection disabled (the prod profile)', () => {
  it('when delay and faultPercent are given, then they are ignored', async () => {
    const product = await startProduct('sqlite', { CONFIG_PROFILES: 'prod', LOGGING_LEVEL: 'silent' });
    try {
      await product.publish(createEvent('CREATE', 1, { productId: 1, name: 'n', weight: 1 }));
      await eventually(async () =>
        assert.equal((await product.get('/product/1?faultPercent=100&delay=1000')).status, 200),
      );
    } finally {
      await product.stop();
    }
  });
});

describe('product shutting down', () => {
  it('when it is closed during a request, then the request still completes, close waits for it and ends promptly', async () => {
    const product = await startProduct('sqlite');
    await product.publish(createEvent('CREATE', 1, { productId: 1, name: 'n', weight: 1 }));
    await eventually(async () => assert.equal((await product.get('/product/1')).status, 200));
    // The service runs in this process, so its HTTP server's own diagnostics channel shows the request arrive.
    let arrived = false;
    const onStart = (message: unknown) => {
      if ((message as { request: IncomingMessage }).request.url === '/product/1?delay=1') arrived = true;
    };
    subscribe('http.server.request.start', onStart);
    const inFlight = product.get('/product/1?delay=1');
    try {
      await eventually(() => arrived, { what: 'the slow request to reach product' });
    } finally {
      unsubscribe('http.server.request.start', onStart);
    }
    const closing = product.stop();
    const answer = await inFlight;
    await closing;
    assert.equal(answer.status, 200);
    assert.equal(answer.body['name'], 'n');
    await assert.rejects(fetch(`${product.service.url}/product/1`), 'no new connections after close');
  });
});
