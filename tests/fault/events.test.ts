// Events under faults, one process per service on PostgreSQL, MariaDB and RabbitMQ: a stream of POSTs
// while the broker's application is stopped and started and the product consumer is SIGKILLed. Every
// product answered 200 must be stored exactly once with its parts; nothing answered 200 may be lost.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { eventually, rabbitmqctl, testDatabaseName } from '@landscape/platform/testing';
import { clientToken, startLandscape, type Started } from '../support/processes.ts';
import { runs } from './settings.ts';
import { recordRow } from './summary.ts';

const composite = 'http://127.0.0.1:7000';

describe('fault suite: events under a broker restart and a killed consumer', () => {
  let running: Started | undefined;
  let brokerStopped = false;
  after(async () => {
    if (brokerStopped) await rabbitmqctl('start_app');
    await running?.stop();
  });

  it('when POSTs stream on through stop_app/start_app and a SIGKILL of product, then every 200 is stored once and none is lost', async () => {
    running = await startLandscape('start-services.ts', mkdtempSync(join(tmpdir(), 'landscape-fault-')), {
      PRODUCT__DATABASE_DATABASE: testDatabaseName('product_fault'),
      RECOMMENDATION__DATABASE_DATABASE: testDatabaseName('recommendation_fault'),
      REVIEW__DATABASE_DATABASE: testDatabaseName('review_fault'),
    });
    const token = await clientToken('http://127.0.0.1:9999', 'writer', 'product:read product:write');
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    // Ids of this run only, so events left in the shared queues by another run cannot be mistaken for ours.
    const base = 1_000_000 + Math.floor(Math.random() * 1_000_000) * 100;
    const total = runs(200);
    const answers = new Map<number, number | 'no response'>();
    let chaos: Promise<void> = Promise.resolve();

    for (let i = 0; i < total; i += 1) {
      if (i === Math.floor(total / 4)) {
        chaos = (async () => {
          brokerStopped = true;
          await rabbitmqctl('stop_app');
          // The outage itself: the broker stays down for 3 s while the POSTs stream on.
          await new Promise((resolve) => setTimeout(resolve, 3000));
          await rabbitmqctl('start_app');
          brokerStopped = false;
        })();
      }
      if (i === Math.floor((total * 3) / 4)) {
        await chaos;
        const pid = execFileSync('pgrep', ['-P', String(running.process.pid), '-f', 'services/product/src/main.ts'])
          .toString()
          .trim();
        process.kill(Number(pid), 'SIGKILL');
      }
      // Paced while the broker is down, so the stream spans the whole outage rather than racing past it.
      if (brokerStopped) await new Promise((resolve) => setTimeout(resolve, 25));
      const productId = base + i;
      const body = {
        productId,
        name: `fault ${productId}`,
        weight: i,
        recommendations: [{ recommendationId: 1, author: 'a', rate: 1, content: 'c' }],
        reviews: [{ reviewId: 1, author: 'a', subject: 's', content: 'c' }],
      };
      const response = await fetch(`${composite}/product-composite`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
      }).catch(() => undefined);
      answers.set(productId, response?.status ?? 'no response');
      await response?.arrayBuffer();
    }
    await chaos;

    const accepted = [...answers].filter(([, status]) => status === 200).map(([id]) => id);
    const refused = [...answers].filter(([, status]) => status === 503).length;
    const unanswered = [...answers].filter(([, status]) => status === 'no response').length;
    const other = [...answers].filter(([, status]) => status !== 200 && status !== 503 && status !== 'no response');
    const stored = new Map<number, { recommendations: unknown[]; reviews: unknown[] }>();
    await eventually(
      async () => {
        for (const id of accepted) {
          if (stored.has(id)) continue;
          const response = await fetch(`${composite}/product-composite/${id}`, { headers });
          if (response.status !== 200) throw new Error(`product ${id}: ${response.status}`);
          const view = (await response.json()) as { name: string; recommendations: unknown[]; reviews: unknown[] };
          if (view.name.startsWith('Fallback') || view.recommendations.length === 0 || view.reviews.length === 0)
            throw new Error(`product ${id} not complete yet`);
          stored.set(id, view);
        }
      },
      { timeoutMs: 120000, intervalMs: 500 },
    ).catch(() => undefined);

    const lost = accepted.filter((id) => !stored.has(id)).length;
    const duplicated = [...stored.values()].filter(
      (view) => view.recommendations.length !== 1 || view.reviews.length !== 1,
    ).length;
    console.log(
      `events under faults: ${total} POSTs, ${accepted.length} answered 200, ${refused} 503, ${unanswered} without a response, ${other.length} other; ${lost} lost, ${duplicated} duplicated`,
    );
    recordRow({
      row: 'events under broker restart and consumer SIGKILL',
      attempts: total,
      failures: lost + duplicated + unanswered + other.length,
    });
    assert.deepEqual(other, [], 'only 200, or 503 while the broker cannot confirm');
    assert.equal(unanswered, 0, 'every POST is answered');
    assert.ok(accepted.length >= total / 2, `most POSTs are accepted (${accepted.length} of ${total})`);
    assert.equal(lost, 0, 'no accepted product is lost');
    assert.equal(duplicated, 0, 'no part is stored twice');
  });
});
