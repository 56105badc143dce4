import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createEvent } from '@landscape/api';
import {
  assertServiceMetrics,
  assertContractError,
  eventually,
  startForTest,
  type Engine,
  type TestService,
} from '@landscape/platform/testing';
import { recommendationService } from './service.ts';

const startRecommendation = (engine: Engine) =>
  startForTest(recommendationService, engine, { destination: 'recommendations', group: 'recommendationsGroup' });

const recommendation = (productId: number, recommendationId: number, author = `author-${recommendationId}`) => ({
  productId,
  recommendationId,
  author,
  rate: recommendationId,
  content: `content-${recommendationId}`,
});

const listed = async (service: TestService, productId: number, count: number) =>
  eventually(async () => {
    const { status, body } = await service.get(`/recommendation?productId=${productId}`);
    assert.equal(status, 200);
    const list = body as unknown as Array<Record<string, unknown>>;
    assert.equal(list.length, count);
    return list;
  });

for (const engine of ['sqlite', 'postgres', 'mysql'] as const) {
  describe(`recommendation on ${engine}`, () => {
    let service: TestService;
    before(async () => {
      service = await startRecommendation(engine);
    });
    after(async () => {
      await service.stop();
    });

    it('when CREATE events arrive, then GET /recommendation lists them by recommendationId with serviceAddress', async () => {
      await service.publish(...[3, 1, 2].map((id) => createEvent('CREATE', 1, recommendation(1, id))));
      const list = await listed(service, 1, 3);
      assert.deepEqual(
        list.map((r) => r['recommendationId']),
        [1, 2, 3],
      );
      assert.deepEqual(
        { ...list[0], serviceAddress: undefined },
        { ...recommendation(1, 1), serviceAddress: undefined },
      );
      assert.equal(typeof list[0]?.['serviceAddress'], 'string');
    });

    it('when a CREATE is replayed, then nothing changes; when it conflicts, then it is dead-lettered as a duplicate key', async () => {
      await service.publish(
        createEvent('CREATE', 21, recommendation(21, 1)),
        createEvent('CREATE', 21, recommendation(21, 2)),
      );
      await listed(service, 21, 2);
      const before = service.deadLetters().length;
      await service.publish(
        createEvent('CREATE', 21, recommendation(21, 1)),
        createEvent('CREATE', 21, recommendation(21, 1, 'someone else')),
      );
      const [dead] = await eventually(() => {
        assert.equal(service.deadLetters().length, before + 1);
        return service.deadLetters().slice(before);
      });
      assert.equal(dead?.reason, 'Duplicate key, Product Id: 21, Recommendation Id:1');
      assert.equal((await listed(service, 21, 2))[0]?.['author'], 'author-1');
    });

    it('when a DELETE arrives, then every recommendation of the product is gone, and repeating it changes nothing', async () => {
      await service.publish(
        createEvent('CREATE', 31, recommendation(31, 1)),
        createEvent('CREATE', 31, recommendation(31, 2)),
      );
      await listed(service, 31, 2);
      await service.publish(
        createEvent('CREATE', 32, recommendation(32, 1)),
        createEvent('DELETE', 31),
        createEvent('DELETE', 31),
      );
      await listed(service, 31, 0);
      await listed(service, 32, 1);
    });

    it('when an event is malformed, then it is dead-lettered with the reason and later events still apply', async () => {
      const before = service.deadLetters().length;
      await service.publish(
        { eventType: 'CREATE', key: 3, data: { ...recommendation(3, 1), rate: 'high' }, eventCreatedAt: 'now' },
        { eventType: 'CREATE', key: 3, data: { ...recommendation(3, 1), extra: true }, eventCreatedAt: 'now' },
        createEvent('CREATE', 3, recommendation(3, 2)),
      );
      await listed(service, 3, 1);
      const reasons = service
        .deadLetters()
        .slice(before)
        .map((d) => d.reason);
      assert.equal(reasons.length, 2);
      assert.match(reasons[0] ?? '', /^Invalid CREATE event: \/data\/rate/);
      assert.match(reasons[1] ?? '', /^Invalid CREATE event/);
    });

    it("when /actuator/prometheus is scraped, then it counts GET /recommendation, its consumer's events and its pool", async () => {
      await service.publish(createEvent('CREATE', 61, recommendation(61, 1)));
      await listed(service, 61, 1);
      // A duplicate too, so the dead-letter and retry counters have something to count.
      const before = service.deadLetters().length;
      await service.publish(createEvent('CREATE', 61, recommendation(61, 1, 'someone else')));
      await eventually(() => assert.equal(service.deadLetters().length, before + 1));
      await assertServiceMetrics({
        base: service.service.url,
        path: '/recommendation?productId=61',
        route: '/recommendation',
        queue: { destination: 'recommendations', group: 'recommendationsGroup' },
        engine,
        service: 'recommendation',
        deadLetters: service.deadLetters().length,
      });
    });
  });
}

describe('recommendation HTTP contract', () => {
  let service: TestService;
  before(async () => {
    service = await startRecommendation('sqlite');
  });
  after(async () => {
    await service.stop();
  });

  const cases: Array<[string, number, string]> = [
    ['/recommendation', 400, "Required query parameter 'productId' is not present."],
    ['/recommendation?productId=', 400, "Required query parameter 'productId' is not present."],
    ['/recommendation?productId=-1', 422, 'Invalid productId: -1'],
    ['/recommendation?productId=0', 422, 'Invalid productId: 0'],
    ['/recommendation?productId=invalidProductId', 400, 'Type mismatch.'],
    ['/recommendation?productId=123456789012345678901234567890', 400, 'Type mismatch.'],
    ['/recommendation?productId=1&productId=2', 400, 'Type mismatch.'],
    ['/recommendation?productId=1&junk=x', 400, 'Unknown query parameter: junk'],
  ];
  for (const [path, status, message] of cases) {
    it(`when GET ${path}, then ${status} "${message}"`, async () => {
      assertContractError(await service.get(path), status, message, '/recommendation');
    });
  }

  it('when the product has no recommendations, then 200 with an empty list', async () => {
    const answer = await service.get('/recommendation?productId=113');
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, []);
  });
});
