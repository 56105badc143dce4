import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createEvent } from '@landscape/api';
import mysql from 'mysql2/promise';
import {
  assertServiceMetrics,
  assertContractError,
  eventually,
  startForTest,
  testDatabaseName,
  type Engine,
  type TestService,
} from '@landscape/platform/testing';
import { reviewService } from './service.ts';

const startReview = (engine: Engine) =>
  startForTest(reviewService, engine, { destination: 'reviews', group: 'reviewsGroup' });

const review = (productId: number, reviewId: number, author = `author-${reviewId}`) => ({
  productId,
  reviewId,
  author,
  subject: `subject-${reviewId}`,
  content: `content-${reviewId}`,
});

const listed = async (service: TestService, productId: number, count: number) =>
  eventually(async () => {
    const { status, body } = await service.get(`/review?productId=${productId}`);
    assert.equal(status, 200);
    const list = body as unknown as Array<Record<string, unknown>>;
    assert.equal(list.length, count);
    return list;
  });

for (const engine of ['sqlite', 'postgres', 'mysql'] as const) {
  describe(`review on ${engine}`, () => {
    let service: TestService;
    before(async () => {
      service = await startReview(engine);
    });
    after(async () => {
      await service.stop();
    });

    it('when CREATE events arrive, then GET /review lists them by reviewId with serviceAddress', async () => {
      await service.publish(...[3, 1, 2].map((id) => createEvent('CREATE', 1, review(1, id))));
      const list = await listed(service, 1, 3);
      assert.deepEqual(
        list.map((r) => r['reviewId']),
        [1, 2, 3],
      );
      assert.deepEqual({ ...list[0], serviceAddress: undefined }, { ...review(1, 1), serviceAddress: undefined });
      assert.equal(typeof list[0]?.['serviceAddress'], 'string');
    });

    it('when a CREATE is replayed, then nothing changes; when it conflicts, then it is dead-lettered as a duplicate key', async () => {
      await service.publish(createEvent('CREATE', 21, review(21, 1)), createEvent('CREATE', 21, review(21, 2)));
      await listed(service, 21, 2);
      const before = service.deadLetters().length;
      await service.publish(
        createEvent('CREATE', 21, review(21, 1)),
        createEvent('CREATE', 21, review(21, 1, 'someone else')),
      );
      const [dead] = await eventually(() => {
        assert.equal(service.deadLetters().length, before + 1);
        return service.deadLetters().slice(before);
      });
      assert.equal(dead?.reason, 'Duplicate key, Product Id: 21, Review Id:1');
      assert.equal((await listed(service, 21, 2))[0]?.['author'], 'author-1');
    });

    it('when a DELETE arrives, then every review of the product is gone, and repeating it changes nothing', async () => {
      await service.publish(createEvent('CREATE', 31, review(31, 1)), createEvent('CREATE', 31, review(31, 2)));
      await listed(service, 31, 2);
      await service.publish(
        createEvent('CREATE', 32, review(32, 1)),
        createEvent('DELETE', 31),
        createEvent('DELETE', 31),
      );
      await listed(service, 31, 0);
      await listed(service, 32, 1);
    });

    it('when an event is malformed, then it is dead-lettered with the reason and later events still apply', async () => {
      const before = service.deadLetters().length;
      await service.publish(
        { eventType: 'CREATE', key: 3, data: { ...review(3, 1), subject: 42 }, eventCreatedAt: 'now' },
        { eventType: 'CREATE', key: 3, data: { ...review(3, 1), extra: true }, eventCreatedAt: 'now' },
        createEvent('CREATE', 3, review(3, 2)),
      );
      await listed(service, 3, 1);
      const reasons = service
        .deadLetters()
        .slice(before)
        .map((d) => d.reason);
      assert.equal(reasons.length, 2);
      assert.match(reasons[0] ?? '', /^Invalid CREATE event: \/data\/subject/);
      assert.match(reasons[1] ?? '', /^Invalid CREATE event/);
    });

    it("when /actuator/prometheus is scraped, then it counts GET /review, its consumer's events and its pool", async () => {
      await service.publish(createEvent('CREATE', 61, review(61, 1)));
      await listed(service, 61, 1);
      // A duplicate too, so the dead-letter and retry counters have something to count.
      const before = service.deadLetters().length;
      await service.publish(createEvent('CREATE', 61, review(61, 1, 'someone else')));
      await eventually(() => assert.equal(service.deadLetters().length, before + 1));
      await assertServiceMetrics({
        base: service.service.url,
        path: '/review?productId=61',
        route: '/review',
        queue: { destination: 'reviews', group: 'reviewsGroup' },
        engine,
        service: 'review',
        deadLetters: service.deadLetters().length,
      });
    });
  });
}

describe('review on mysql, when the database refuses what an event carries', () => {
  let service: TestService;
  before(async () => {
    service = await startReview('mysql');
    // A column narrower than the schema allows, so a valid event still carries a value the server refuses.
    const connection = await mysql.createConnection({
      host: '127.0.0.1',
      port: 3306,
      user: 'root',
      database: testDatabaseName('review'),
    });
    try {
      await connection.query('ALTER TABLE reviews MODIFY subject VARCHAR(5) NOT NULL');
    } finally {
      await connection.end();
    }
  });
  after(async () => {
    await service.stop();
  });

  it('when the server refuses a value, then the event is dead-lettered with the reason and the next product is applied', async () => {
    await service.publish(
      createEvent('CREATE', 1, { ...review(1, 1), subject: 'too long' }),
      createEvent('CREATE', 2, { ...review(2, 1), subject: 'fine' }),
    );
    await listed(service, 2, 1);
    assert.deepEqual(
      service.deadLetters().map((d) => d.reason),
      ["Refused by the database: Data too long for column 'subject' at row 1"],
    );
    await listed(service, 1, 0);
  });
});

describe('review HTTP contract', () => {
  let service: TestService;
  before(async () => {
    service = await startReview('sqlite');
  });
  after(async () => {
    await service.stop();
  });

  const cases: Array<[string, number, string]> = [
    ['/review', 400, "Required query parameter 'productId' is not present."],
    ['/review?productId=', 400, "Required query parameter 'productId' is not present."],
    ['/review?productId=-1', 422, 'Invalid productId: -1'],
    ['/review?productId=0', 422, 'Invalid productId: 0'],
    ['/review?productId=invalidProductId', 400, 'Type mismatch.'],
    ['/review?productId=123456789012345678901234567890', 400, 'Type mismatch.'],
    ['/review?productId=1&productId=2', 400, 'Type mismatch.'],
    ['/review?productId=1&junk=x', 400, 'Unknown query parameter: junk'],
  ];
  for (const [path, status, message] of cases) {
    it(`when GET ${path}, then ${status} "${message}"`, async () => {
      assertContractError(await service.get(path), status, message, '/review');
    });
  }

  it('when the product has no reviews, then 200 with an empty list', async () => {
    const answer = await service.get('/review?productId=113');
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, []);
  });
});
