import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createInProcessBus, createLogger, type InProcessBus, type RunningService } from '@landscape/platform';
import {
  assertContractError,
  eventually,
  requestCount,
  scrape,
  startTestIssuer,
  testEnv,
  type Scrape,
  type TestIssuer,
} from '@landscape/platform/testing';
import { productService } from '@landscape/product/service';
import { recommendationService } from '@landscape/recommendation/service';
import { reviewService } from '@landscape/review/service';
import { productCompositeService } from '@landscape/product-composite/service';
import { compositeEnv } from '@landscape/product-composite/testing';

const logger = createLogger('composite-test', 'silent');

interface Landscape {
  bus: InProcessBus;
  issuer: TestIssuer;
  core: RunningService[];
  startComposite(extra?: Record<string, string>): Promise<RunningService>;
  stop(): Promise<void>;
}

/** The three core services on in-memory SQLite and one in-process bus, as in the all-in-one mode. */
async function startLandscape(): Promise<Landscape> {
  const issuer = await startTestIssuer();
  const env = testEnv('core', 'sqlite');
  const bus = createInProcessBus(productService.loadConfig(env).messaging, logger);
  const core = [
    await productService.start(productService.loadConfig(env), { bus, logger }),
    await recommendationService.start(recommendationService.loadConfig(env), { bus, logger }),
    await reviewService.start(reviewService.loadConfig(env), { bus, logger }),
  ];
  const [product, recommendation, review] = core.map((s) => s.url) as [string, string, string];
  const composites: RunningService[] = [];
  return {
    bus,
    issuer,
    core,
    async startComposite(extra = {}) {
      const config = productCompositeService.loadConfig({
        ...testEnv('product-composite', 'sqlite'),
        ...compositeEnv(issuer, { product, recommendation, review }),
        ...extra,
      });
      const composite = await productCompositeService.start(config, { bus, logger });
      composites.push(composite);
      return composite;
    },
    async stop() {
      for (const s of [...composites, ...core]) await s.close();
      await bus.close();
      await issuer.close();
    },
  };
}

interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON of many shapes, checked field by field
  body: any;
  headers: Headers;
  text: string;
}

async function call(
  base: string,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (token) headers['authorization'] = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = contentType;
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: text ? JSON.parse(text) : undefined };
}

const aggregate = (productId: number, parts: { recommendations?: number; reviews?: number } = {}) => ({
  productId,
  name: `product ${productId}`,
  weight: productId,
  recommendations: Array.from({ length: parts.recommendations ?? 0 }, (_, i) => ({
    recommendationId: i + 1,
    author: `author ${i + 1}`,
    rate: i + 1,
    content: `content ${i + 1}`,
  })),
  reviews: Array.from({ length: parts.reviews ?? 0 }, (_, i) => ({
    reviewId: i + 1,
    author: `author ${i + 1}`,
    subject: `subject ${i + 1}`,
    content: `content ${i + 1}`,
  })),
});

describe('product-composite', () => {
  let landscape: Landscape;
  let base: string;
  let reader: string;
  let writer: string;
  const get = (path: string, token = reader) => call(base, 'GET', path, token);

  before(async () => {
    landscape = await startLandscape();
    base = (await landscape.startComposite()).url;
    reader = await landscape.issuer.reader();
    writer = await landscape.issuer.writer();
  });
  after(async () => {
    await landscape.stop();
  });

  it('when a product with 3 recommendations and 3 reviews is posted, then 200 with an empty body, and the composite view shows every part', async () => {
    const posted = await call(
      base,
      'POST',
      '/product-composite',
      writer,
      aggregate(2, { recommendations: 3, reviews: 3 }),
    );
    assert.equal(posted.status, 200);
    assert.equal(posted.text, '');
    const view = await eventually(async () => {
      const answer = await get('/product-composite/2');
      assert.equal(answer.status, 200);
      assert.equal(answer.body.recommendations.length, 3);
      assert.equal(answer.body.reviews.length, 3);
      return answer.body;
    });
    assert.equal(view.name, 'product 2');
    assert.equal(view.weight, 2);
    assert.deepEqual(view.recommendations[0], { recommendationId: 1, author: 'author 1', rate: 1 });
    assert.deepEqual(view.reviews[2], { reviewId: 3, author: 'author 3', subject: 'subject 3' });
    for (const key of ['cmp', 'pro', 'rev', 'rec']) assert.match(view.serviceAddresses[key], /\/.+:\d+$/, key);
  });

  it('when a product has only reviews or only recommendations, then the answer is partial with an empty address for the missing part', async () => {
    assert.equal((await call(base, 'POST', '/product-composite', writer, aggregate(114, { reviews: 3 }))).status, 200);
    assert.equal(
      (await call(base, 'POST', '/product-composite', writer, aggregate(214, { recommendations: 3 }))).status,
      200,
    );
    const reviewsOnly = await eventually(async () => {
      const answer = await get('/product-composite/114');
      assert.equal(answer.body.reviews?.length, 3);
      return answer.body;
    });
    assert.deepEqual(reviewsOnly.recommendations, []);
    assert.equal(reviewsOnly.serviceAddresses.rec, '');
    const recommendationsOnly = await eventually(async () => {
      const answer = await get('/product-composite/214');
      assert.equal(answer.body.recommendations?.length, 3);
      return answer.body;
    });
    assert.deepEqual(recommendationsOnly.reviews, []);
    assert.equal(recommendationsOnly.serviceAddresses.rev, '');
  });

  it('when a product is deleted, then 200 and it is gone; deleting it again is 200 too', async () => {
    assert.equal(
      (await call(base, 'POST', '/product-composite', writer, aggregate(5, { recommendations: 1, reviews: 1 }))).status,
      200,
    );
    await eventually(async () => assert.equal((await get('/product-composite/5')).status, 200));
    assert.equal((await call(base, 'DELETE', '/product-composite/5', writer)).status, 200);
    await eventually(async () => assert.equal((await get('/product-composite/5')).status, 404));
    assert.equal((await call(base, 'DELETE', '/product-composite/5', writer)).status, 200);
    const deadLetters = ['productsGroup', 'recommendationsGroup', 'reviewsGroup'].flatMap((group) =>
      landscape.bus.deadLetters(`${group.replace('Group', '')}`, group),
    );
    assert.deepEqual(deadLetters, []);
  });

  it('when the same POST is repeated, then 200 again and nothing is dead-lettered (consumers are idempotent)', async () => {
    const body = aggregate(6, { recommendations: 2, reviews: 2 });
    assert.equal((await call(base, 'POST', '/product-composite', writer, body)).status, 200);
    assert.equal((await call(base, 'POST', '/product-composite', writer, body)).status, 200);
    await eventually(async () => assert.equal((await get('/product-composite/6')).body.reviews?.length, 2));
    assert.equal(landscape.bus.deadLetters('products', 'productsGroup').length, 0);
    assert.equal(landscape.bus.deadLetters('reviews', 'reviewsGroup').length, 0);
  });

  const errorCases: Array<[string, number, string]> = [
    ['/product-composite/13', 404, 'No product found for productId: 13'],
    ['/product-composite/-1', 422, 'Invalid productId: -1'],
    ['/product-composite/0', 422, 'Invalid productId: 0'],
    ['/product-composite/invalidProductId', 400, 'Type mismatch.'],
    ['/product-composite/123456789012345678901234567890', 400, 'Type mismatch.'],
    ['/product-composite/1?delay=x', 400, 'Type mismatch.'],
    ['/product-composite/1?junk=1', 400, 'Unknown query parameter: junk'],
  ];
  for (const [path, status, message] of errorCases) {
    it(`when GET ${path}, then ${status} "${message}" in the contract's error shape`, async () => {
      assertContractError(await get(path), status, message, path.split('?')[0]);
    });
  }

  const badBodies: Array<[string, unknown, number, RegExp]> = [
    ['productId below 1', { ...aggregate(1), productId: 0 }, 422, /^Invalid productId: 0$/],
    ['a missing name', { productId: 1, weight: 1 }, 400, /^Invalid body\.name: is required$/],
    ['a name that is a number', { ...aggregate(1), name: 5 }, 400, /^Invalid body\.name: must be string$/],
    [
      'a productId given as a string',
      { ...aggregate(1), productId: '1' },
      400,
      /^Invalid body\.productId: must be integer$/,
    ],
    ['an unknown field', { ...aggregate(1), colour: 'red' }, 400, /^Invalid body\.colour: unknown field$/],
    [
      'a recommendation without author',
      { ...aggregate(1), recommendations: [{ recommendationId: 1, rate: 1, content: '' }] },
      400,
      /^Invalid body\.recommendations\.0\.author: is required$/,
    ],
    [
      'a repeated reviewId',
      {
        ...aggregate(1, { reviews: 1 }),
        reviews: [aggregate(1, { reviews: 1 }).reviews[0], aggregate(1, { reviews: 1 }).reviews[0]],
      },
      422,
      /^Duplicate reviewId: 1$/,
    ],
    [
      'a name with U+0000',
      { ...aggregate(1), name: 'a\u0000b' },
      400,
      /^Invalid body\.name: contains U\+0000 \(NUL\), which cannot be stored$/,
    ],
    [
      'an author with an unpaired surrogate',
      {
        ...aggregate(1, { recommendations: 1 }),
        recommendations: [{ recommendationId: 1, author: 'x\uD800', rate: 1, content: '' }],
      },
      400,
      /^Invalid body\.recommendations\.0\.author: contains an unpaired UTF-16 surrogate \(U\+D800\), which cannot be stored$/,
    ],
    [
      'a review content with an unpaired low surrogate',
      { ...aggregate(1, { reviews: 1 }), reviews: [{ reviewId: 1, author: 'a', subject: 's', content: '\uDE00' }] },
      400,
      /^Invalid body\.reviews\.0\.content: contains an unpaired UTF-16 surrogate \(U\+DE00\)/,
    ],
    [
      'a name longer than its column',
      { ...aggregate(1), name: 'n'.repeat(256) },
      400,
      /^Invalid body\.name: must NOT have more than 255 characters$/,
    ],
    [
      'a weight beyond the integer column',
      { ...aggregate(1), weight: 2147483648 },
      400,
      /^Invalid body\.weight: must be <= 2147483647$/,
    ],
    [
      'a rate above 100',
      {
        ...aggregate(1, { recommendations: 1 }),
        recommendations: [{ recommendationId: 1, author: 'a', rate: 101, content: '' }],
      },
      400,
      /^Invalid body\.recommendations\.0\.rate: must be <= 100$/,
    ],
    [
      'a reviewId beyond the integer column',
      { ...aggregate(1, { reviews: 1 }), reviews: [{ reviewId: 2147483648, author: 'a', subject: 's', content: '' }] },
      400,
      /^Invalid body\.reviews\.0\.reviewId: must be <= 2147483647$/,
    ],
    [
      'an array nested 400000 levels deep',
      '['.repeat(400_000) + ']'.repeat(400_000),
      400,
      /^Invalid body: must be object$/,
    ],
    ['malformed JSON', '{"productId": 1,', 400, /^Malformed JSON body$/],
    ['an array', [1, 2], 400, /^Invalid body: must be object$/],
  ];
  for (const [what, body, status, message] of badBodies) {
    it(`when a POST carries ${what}, then ${status} with a message naming the problem, and nothing is published`, async () => {
      const audited = landscape.bus.audit('products').length;
      const answer = await call(base, 'POST', '/product-composite', writer, body);
      assertContractError(answer, status, message, '/product-composite');
      assert.equal(landscape.bus.audit('products').length, audited);
    });
  }

  it('when a POST is not JSON, then 415', async () => {
    const answer = await call(
      base,
      'POST',
      '/product-composite',
      writer,
      'productId=1',
      'application/x-www-form-urlencoded',
    );
    assertContractError(answer, 415, /\S/, '/product-composite');
  });

  it('when no token is given, then 401 with a Bearer challenge, before the body is even looked at', async () => {
    for (const [method, path, body] of [
      ['GET', '/product-composite/2'],
      ['POST', '/product-composite', 'not json'],
      ['DELETE', '/product-composite/2'],
    ] as const) {
      const answer = await call(base, method, path, undefined, body);
      assertContractError(answer, 401, /\S/, path);
      assert.equal(answer.headers.get('www-authenticate'), 'Bearer');
    }
  });

  it('when a reader token is used to POST or DELETE, then 403 insufficient_scope', async () => {
    for (const [method, path, body] of [
      ['POST', '/product-composite', aggregate(7)],
      ['DELETE', '/product-composite/2'],
    ] as const) {
      const answer = await call(base, method, path, reader, body);
      assert.equal(answer.status, 403);
      assert.match(answer.headers.get('www-authenticate') ?? '', /error="insufficient_scope".*scope="product:write"/);
    }
  });

  it('when a token has only product:write, then GET is 403', async () => {
    const writeOnly = await landscape.issuer.sign({ scope: 'product:write' });
    assert.equal((await get('/product-composite/2', writeOnly)).status, 403);
  });

  it('when fault injection is off in configuration (the prod profile), then delay and faultPercent are ignored', async () => {
    assert.equal((await call(base, 'POST', '/product-composite', writer, aggregate(8))).status, 200);
    const prod = await landscape.startComposite({ FAULTS_ENABLED: 'false' });
    await eventually(async () =>
      assert.equal((await call(prod.url, 'GET', '/product-composite/8', reader)).status, 200),
    );
    const answer = await call(prod.url, 'GET', '/product-composite/8?faultPercent=100&delay=3', reader);
    assert.equal(answer.status, 200);
    assert.equal(answer.body.name, 'product 8');
  });

  it('serves the actuator endpoints without a token, with the circuit breaker in health', async () => {
    const health = await call(base, 'GET', '/actuator/health');
    assert.equal(health.status, 200);
    assert.equal(health.body.components.circuitBreakers.details.product.details.state, 'CLOSED');
    assert.deepEqual((await call(base, 'GET', '/actuator/circuitbreakerevents/product/STATE_TRANSITION')).body, {
      circuitBreakerEvents: [],
    });
    assert.equal((await call(base, 'GET', '/actuator/health/readiness')).status, 200);
  });

  it('when composite views are asked, then /actuator/prometheus counts them under the route template and times each call to a core service', async () => {
    assert.equal(
      (await call(base, 'POST', '/product-composite', writer, aggregate(7, { recommendations: 1, reviews: 1 }))).status,
      200,
    );
    await eventually(async () => assert.equal((await get('/product-composite/7')).body?.reviews?.length, 1));
    const route = '/product-composite/:productId';
    const calls = (scraped: Scrape, peer: string, status = '200') =>
      scraped.value('http_client_request_duration_seconds_count', {
        peer_service: peer,
        http_request_method: 'GET',
        http_response_status_code: status,
      });
    const before = await scrape(base);
    for (let i = 0; i < 3; i++) assert.equal((await get('/product-composite/7')).status, 200);
    const viewed = await scrape(base);
    assert.equal(
      requestCount(viewed, route, { http_response_status_code: '200' }) -
        requestCount(before, route, { http_response_status_code: '200' }),
      3,
    );
    for (const peer of ['product', 'recommendation', 'review'])
      assert.equal(calls(viewed, peer) - calls(before, peer), 3, peer);

    assert.equal((await get('/product-composite/13')).status, 404);
    const missing = await scrape(base);
    assert.equal(
      requestCount(missing, route, { http_response_status_code: '404' }) -
        requestCount(viewed, route, { http_response_status_code: '404' }),
      1,
    );
    assert.equal(calls(missing, 'product', '404') - calls(viewed, 'product', '404'), 1);
    assert.equal(missing.value('circuit_breaker_state', { name: 'product', state: 'closed' }), 1);
    assert.equal(missing.value('messaging_process_total'), 0, 'the composite consumes no events');
  });

  it('serves an OpenAPI 3 document generated from the schemas, and a browsable UI', async () => {
    const doc = await call(base, 'GET', '/openapi.json');
    assert.equal(doc.status, 200);
    assert.match(doc.body.openapi, /^3\./);
    assert.ok(doc.body.paths['/product-composite/{productId}'].get);
    assert.ok(
      doc.body.paths['/product-composite'].post.requestBody.content['application/json'].schema.properties
        .recommendations,
    );
    const ui = await fetch(`${base}/openapi/`);
    assert.equal(ui.status, 200);
    assert.match(await ui.text(), /swagger-ui|<html/i);
  });
});

describe('product-composite resilience, in real time with shortened timings', () => {
  let landscape: Landscape;
  let base: string;
  let reader: string;
  const get = (path: string) => call(base, 'GET', path, reader);
  const state = async () =>
    (await call(base, 'GET', '/actuator/health')).body.components.circuitBreakers.details.product.details.state;

  before(async () => {
    landscape = await startLandscape();
    base = (
      await landscape.startComposite({
        RESILIENCE_TIMEOUT_MS: '1000',
        RESILIENCE_RETRY_WAIT_MS: '50',
        RESILIENCE_CIRCUIT_BREAKER_WAIT_IN_OPEN_MS: '2000',
      })
    ).url;
    reader = await landscape.issuer.reader();
    const writer = await landscape.issuer.writer();
    assert.equal((await call(base, 'POST', '/product-composite', writer, aggregate(1))).status, 200);
    await eventually(async () => assert.equal((await get('/product-composite/1')).status, 200));
  });
  after(async () => {
    await landscape.stop();
  });

  it('when product is slower than the timeout, then 500 with the original message, the breaker opens, the fallback answers, and it closes again', async () => {
    assert.equal(await state(), 'CLOSED');
    // The window holds the last 5 recorded calls: 2 successes and 3 timeouts make 60 % failures.
    for (let i = 0; i < 2; i++) assert.equal((await get('/product-composite/1')).status, 200);
    for (let i = 0; i < 3; i++) {
      const slow = await get('/product-composite/1?delay=2');
      assertContractError(
        slow,
        500,
        /^Did not observe any item or terminal signal within 1000ms/,
        '/product-composite/1',
      );
    }
    assert.equal(await state(), 'OPEN');
    const open = await scrape(base);
    assert.deepEqual(
      ['closed', 'open', 'half_open'].map((s) => open.value('circuit_breaker_state', { name: 'product', state: s })),
      [0, 1, 0],
    );
    assert.equal(
      open.value('circuit_breaker_transitions_total', { name: 'product', from_state: 'closed', to_state: 'open' }),
      1,
    );
    assert.ok(
      open.value('http_client_request_duration_seconds_count', { peer_service: 'product', error_type: 'timeout' }) >= 3,
      'the timeouts are counted',
    );

    const fallback = await get('/product-composite/1?delay=2');
    assert.equal(fallback.status, 200);
    assert.equal(fallback.body.name, 'Fallback product1');
    assert.equal(fallback.body.weight, 1);
    const notInCache = await get('/product-composite/13');
    assertContractError(notInCache, 404, 'Product Id: 13 not found in fallback cache!', '/product-composite/13');

    await eventually(async () => assert.equal(await state(), 'HALF_OPEN'), { timeoutMs: 10000, intervalMs: 100 });
    for (let i = 0; i < 3; i++) assert.equal((await get('/product-composite/1')).body.name, 'product 1');
    assert.equal(await state(), 'CLOSED');

    const events = (await call(base, 'GET', '/actuator/circuitbreakerevents/product/STATE_TRANSITION')).body
      .circuitBreakerEvents;
    assert.deepEqual(
      events.map((e: { stateTransition: string }) => e.stateTransition),
      ['CLOSED_TO_OPEN', 'OPEN_TO_HALF_OPEN', 'HALF_OPEN_TO_CLOSED'],
    );
    const closed = await scrape(base);
    assert.deepEqual(
      ['closed', 'open', 'half_open'].map((s) => closed.value('circuit_breaker_state', { name: 'product', state: s })),
      [1, 0, 0],
    );
    assert.deepEqual(
      [
        ['closed', 'open'],
        ['open', 'half_open'],
        ['half_open', 'closed'],
      ].map(([from, to]) =>
        closed.value('circuit_breaker_transitions_total', {
          name: 'product',
          from_state: from as string,
          to_state: to as string,
        }),
      ),
      [1, 1, 1],
    );
  });
});
