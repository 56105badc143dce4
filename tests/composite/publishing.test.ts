import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger, type RunningService, type ServiceConfig } from '@landscape/platform';
import {
  assertContractError,
  brokerAdmin,
  type Engine,
  eventually,
  rabbitmqctl,
  resetTestDatabase,
  startTestIssuer,
  testEnv,
  type TestIssuer,
} from '@landscape/platform/testing';
import { productService } from '@landscape/product/service';
import { recommendationService } from '@landscape/recommendation/service';
import { reviewService } from '@landscape/review/service';
import { productCompositeService } from '@landscape/product-composite/service';
import { compositeEnv } from '@landscape/product-composite/testing';

const logger = createLogger('publishing-test', 'silent');
const rabbit = {
  MESSAGING_KIND: 'rabbitmq',
  MESSAGING_RABBITMQ_CONFIRM_TIMEOUT_MS: '2000',
  MESSAGING_RABBITMQ_RECONNECT_MAX_MS: '1000',
};
const destinations = [
  ['products', 'productsGroup'],
  ['recommendations', 'recommendationsGroup'],
  ['reviews', 'reviewsGroup'],
] as const;

async function startCore<C extends ServiceConfig>(
  definition: {
    name: string;
    loadConfig(env: Record<string, string>): C;
    start(config: C, options: { logger: typeof logger }): Promise<RunningService>;
  },
  engine: Engine,
): Promise<RunningService> {
  const config = definition.loadConfig(testEnv(definition.name, engine, rabbit));
  if (config.database) await resetTestDatabase(config.database, logger);
  return definition.start(config, { logger });
}

/** The one-process-per-service shape: core services on PostgreSQL and MariaDB, every bus on RabbitMQ. */
describe('publishing through RabbitMQ with the broker stopped and restarted', () => {
  let issuer: TestIssuer;
  const services: RunningService[] = [];
  let base = '';
  let writer = '';
  let reader = '';

  const post = (productId: number) =>
    fetch(`${base}/product-composite`, {
      method: 'POST',
      headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        productId,
        name: `product ${productId}`,
        weight: 1,
        recommendations: [{ recommendationId: 1, author: 'a', rate: 1, content: 'c' }],
        reviews: [{ reviewId: 1, author: 'a', subject: 's', content: 'c' }],
      }),
      signal: AbortSignal.timeout(30000),
    });
  const view = async (productId: number) => {
    const response = await fetch(`${base}/product-composite/${productId}`, {
      headers: { authorization: `Bearer ${reader}` },
    });
    return {
      status: response.status,
      body: (await response.json()) as { recommendations?: unknown[]; reviews?: unknown[] },
    };
  };
  const complete = (productId: number) =>
    eventually(async () => {
      const answer = await view(productId);
      assert.equal(answer.status, 200);
      assert.equal(answer.body.recommendations?.length, 1);
      assert.equal(answer.body.reviews?.length, 1);
    }, 20000);

  before(async () => {
    const admin = await brokerAdmin();
    for (const [destination, group] of destinations) await admin.deleteTopology(destination, [group]);
    await admin.close();
    issuer = await startTestIssuer();
    services.push(
      await startCore(productService, 'postgres'),
      await startCore(recommendationService, 'postgres'),
      await startCore(reviewService, 'mysql'),
    );
    const [product, recommendation, review] = services.map((s) => s.url) as [string, string, string];
    const composite = await productCompositeService.start(
      productCompositeService.loadConfig({
        ...testEnv('product-composite', 'sqlite', rabbit),
        ...compositeEnv(issuer, { product, recommendation, review }),
      }),
      { logger },
    );
    services.push(composite);
    base = composite.url;
    writer = await issuer.writer();
    reader = await issuer.reader();
  });

  after(async () => {
    for (const service of services.reverse()) await service.close();
    await issuer.close();
  });

  it('when the broker is up, then a POST is 200 once confirmed and every part arrives', async () => {
    assert.equal((await post(301)).status, 200);
    await complete(301);
  });

  it('when the broker is stopped, then POST and DELETE answer 503 and nothing is accepted; once it is back the same POST succeeds, and repeating it is harmless', async () => {
    // A product of this test's own, for the refused DELETE to leave in place.
    assert.equal((await post(303)).status, 200);
    await complete(303);
    await rabbitmqctl('stop_app');
    try {
      const refused = await post(302);
      assertContractError(
        { status: refused.status, body: await refused.json() },
        503,
        /not accepted.*safe to repeat/,
        '/product-composite',
      );
      assert.equal(
        (
          await fetch(`${base}/product-composite/303`, {
            method: 'DELETE',
            headers: { authorization: `Bearer ${writer}` },
            signal: AbortSignal.timeout(30000),
          })
        ).status,
        503,
      );
    } finally {
      await rabbitmqctl('start_app');
    }
    // Every consumer is back on the broker before the refused product is looked for.
    await eventually(
      async () => {
        for (const service of services) {
          const readiness = await fetch(`${service.url}/actuator/health/readiness`);
          assert.equal(readiness.status, 200, service.name);
        }
      },
      { timeoutMs: 30000, intervalMs: 200 },
    );
    assert.equal((await view(302)).status, 404, 'nothing of the refused POST was applied');
    await complete(303);

    await eventually(async () => assert.equal((await post(302)).status, 200), { timeoutMs: 30000, intervalMs: 500 });
    assert.equal((await post(302)).status, 200, 'a repeated POST is accepted again');
    await complete(302);

    const admin = await brokerAdmin();
    try {
      for (const [destination, group] of destinations) {
        assert.equal(await admin.messageCount(`${destination}.${group}.dlq`), 0, `${destination} dead letters`);
      }
    } finally {
      await admin.close();
    }
  });
});
