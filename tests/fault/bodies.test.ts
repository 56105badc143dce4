// Generated bodies for POST /product-composite: a body the contract refuses gets a 4xx and publishes
// nothing; a body it takes gets 200 and publishes exactly one event per part. Never a 5xx.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { startInProcessLandscape, type InProcessLandscape } from './landscape.ts';
import { runs, seed } from './settings.ts';
import { recordRow } from './summary.ts';

const nested = (depth: number, leaf: string) => '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);

/** Raw bodies that break the contract in a known way, each with what it breaks. */
const invalidRaw = fc.oneof(
  fc.integer({ min: 1, max: 100000 }).map((depth) => nested(depth, '1')),
  fc
    .integer({ min: 1, max: 50 })
    .map((depth) => `{"productId":1,"name":"n","weight":1,"recommendations":[${nested(depth, '[]')}]}`),
  fc
    .integer({ min: 1001, max: 60000 })
    .map(
      (n) =>
        `{"productId":1,"name":"n","weight":1,"reviews":[${Array(n).fill('{"reviewId":1,"author":"a","subject":"s","content":"c"}').join(',')}]}`,
    ),
  fc.integer({ min: 256, max: 2_000_000 }).map((n) => `{"productId":1,"name":"${'x'.repeat(n)}","weight":1}`),
  fc.constantFrom(
    '{"productId":1,"name":"n","weight":1e309}',
    '{"productId":1e309,"name":"n","weight":1}',
    '{"productId":1,"name":"n","weight":-1e309}',
    '{"productId":1.5,"name":"n","weight":1}',
    '{"productId":"1","name":"n","weight":1}',
    '{"productId":1,"name":"n","weight":"1"}',
    '{"productId":1,"name":"","weight":1}',
    '{"productId":1,"name":"n"}',
    '{"name":"n","weight":1}',
    '{"productId":1,"name":"n","weight":1,"extra":1}',
    '{"productId":1,"name":"n","weight":1,"__proto__":{"admin":true}}',
    '{"__proto__":{"productId":1,"name":"n","weight":1}}',
    '{"constructor":{"prototype":{"productId":1}}}',
    '{"productId":1,"name":"n","weight":1,"constructor":{"prototype":{"x":1}}}',
    '{"productId":1,"name":"n","weight":1,"recommendations":[{"recommendationId":1,"author":"a","rate":1,"content":"c","__proto__":{"x":1}}]}',
    '{"productId":1,"name":"a\\u0000b","weight":1}',
    '{"productId":1,"name":"\\ud800","weight":1}',
    '{"productId":1,"name":"n","weight":99999999999999999999}',
    '{"productId":99999999999999999999,"name":"n","weight":1}',
    '{"productId":null,"name":"n","weight":1}',
    '[]',
    '[{"productId":1}]',
    'null',
    'true',
    '1',
    '"s"',
    '{',
    '{"productId":1,',
    '{"productId":1}}',
    '{"productId":01,"name":"n","weight":1}',
    '{"productId":NaN,"name":"n","weight":1}',
    '{"productId":1,"name":"n","weight":1,"recommendations":{}}',
    '{"productId":1,"name":"n","weight":1,"reviews":[null]}',
    '{"productId":1,"name":"n","weight":1,"reviews":[{"reviewId":1,"author":"a","subject":"s"}]}',
    '\ufeff{}',
    '',
  ),
);

const text = fc.string({ minLength: 0, maxLength: 300, unit: 'binary' });
const entity = (id: string) =>
  fc.record(
    {
      [id]: fc.oneof(fc.integer(), fc.double(), fc.string()),
      author: text,
      subject: text,
      rate: fc.integer({ min: -10, max: 10 }),
      content: text,
    },
    { requiredKeys: [] },
  );
/** Objects that may or may not keep the contract; whatever the answer, it must agree with what was published. */
const mixed = fc.record({
  productId: fc.oneof(fc.integer({ min: -5, max: 2_000_000_000 }), fc.string(), fc.constant(null)),
  name: text,
  weight: fc.oneof(fc.integer({ min: -5, max: 3_000_000_000 }), fc.double(), fc.string()),
  recommendations: fc.array(entity('recommendationId'), { maxLength: 4 }),
  reviews: fc.array(entity('reviewId'), { maxLength: 4 }),
});

const contentType = fc.constantFrom(
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=latin1',
  'application/xml',
  '',
  'application/json, text/plain',
  'APPLICATION/JSON',
);

describe('fault suite: generated product bodies', () => {
  let landscape: InProcessLandscape;
  let writer: string;
  before(async () => {
    landscape = await startInProcessLandscape();
    writer = await landscape.token('writer', 'product:read product:write');
  });
  after(async () => {
    await landscape?.close();
  });

  const post = async (body: string, type: string) => {
    landscape.resetPublished();
    const headers: Record<string, string> = { authorization: `Bearer ${writer}` };
    if (type) headers['content-type'] = type;
    const response = await fetch(`${landscape.urls.composite}/product-composite`, { method: 'POST', headers, body });
    await response.arrayBuffer();
    return { status: response.status, published: landscape.published() };
  };

  it('when a body breaks the contract in any of the generated ways, then 4xx and nothing is published', async () => {
    let attempts = 0;
    const failures: string[] = [];
    await fc.assert(
      fc.asyncProperty(invalidRaw, contentType, async (body, type) => {
        attempts += 1;
        const answer = await post(body, type);
        if (answer.status < 400 || answer.status >= 500 || answer.published !== 0)
          failures.push(`${answer.status}, ${answer.published} published, ${type}: ${body.slice(0, 120)}`);
      }),
      { seed, numRuns: runs(300) },
    );
    recordRow({ row: 'POST bodies breaking the contract', attempts, failures: failures.length });
    assert.deepEqual(failures.slice(0, 20), []);
  });

  it('when generated objects are posted, then a 200 published one event per part and a 4xx published nothing', async () => {
    let attempts = 0;
    const failures: string[] = [];
    await fc.assert(
      fc.asyncProperty(mixed, async (object) => {
        attempts += 1;
        const answer = await post(JSON.stringify(object), 'application/json');
        const parts = 1 + object.recommendations.length + object.reviews.length;
        const agrees =
          answer.status === 200
            ? answer.published === parts
            : answer.status >= 400 && answer.status < 500 && answer.published === 0;
        if (!agrees)
          failures.push(`${answer.status}, ${answer.published} published: ${JSON.stringify(object).slice(0, 200)}`);
      }),
      { seed, numRuns: runs(400) },
    );
    recordRow({ row: 'POST generated objects', attempts, failures: failures.length });
    assert.deepEqual(failures.slice(0, 20), []);
  });
});
