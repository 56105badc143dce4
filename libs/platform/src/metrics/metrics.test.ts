import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Type } from '@landscape/vendor/typebox';
import { loadConfig } from '../config.ts';
import { createHttpApp } from '../http.ts';
import { createLogger } from '../log.ts';
import {
  createInProcessBus,
  EventRejectedError,
  messagingConfigSchema,
  type MessagingConfig,
  type InProcessBus,
} from '../messaging/index.ts';
import { startService, type RunningService, type ServiceConfig } from '../runtime.ts';
import { eventually, requestCount, scrape } from '../testing/index.ts';

const logger = createLogger('metrics-test', 'silent');

function config(metrics = { enabled: true }): ServiceConfig & { messaging: MessagingConfig } {
  const { messaging } = loadConfig(Type.Object({ messaging: messagingConfigSchema }), {
    service: 'metrics',
    env: {
      CONFIG_LOCATION: mkdtempSync(join(tmpdir(), 'metrics-test-')),
      MESSAGING_KIND: 'in-process',
      MESSAGING_RETRY_INITIAL_INTERVAL_MS: '5',
      MESSAGING_RETRY_MAX_INTERVAL_MS: '10',
    },
  });
  return {
    server: { port: 0, host: '127.0.0.1', shutdownTimeoutMs: 1000 },
    logging: { level: 'silent' },
    messaging,
    metrics,
    tracing: { enabled: false, sampleRatio: 1, store: { maxTraces: 0, maxSpansPerTrace: 1 } },
  };
}

/** A service with one route template and one consumer that rejects events marked `poison`. */
function startThings(bus: InProcessBus, name = 'things', metrics = { enabled: true }): Promise<RunningService> {
  return startService({
    name,
    config: config(metrics),
    logger,
    bus,
    build: (deps) => {
      const app = createHttpApp({ logger, health: deps.health, metrics: deps.metrics, info: {} });
      app.get('/things/:thingId', async (request) => ({ id: (request.params as { thingId: string }).thingId }));
      return {
        app,
        subscriptions: [
          {
            destination: name,
            group: `${name}Group`,
            handler: async (payload) => {
              if (payload === 'poison') throw new EventRejectedError('poison');
            },
          },
        ],
      };
    },
  });
}

describe("a service's /actuator/prometheus", () => {
  let bus: InProcessBus;
  let service: RunningService;
  before(async () => {
    bus = createInProcessBus(config().messaging, logger);
    service = await startThings(bus);
  });
  after(async () => {
    await service.close();
    await bus.close();
  });

  it('when requests are made, then the duration histogram counts them under the route template, never the raw URL', async () => {
    const before = requestCount(await scrape(service.url), '/things/:thingId', {
      http_request_method: 'GET',
      http_response_status_code: '200',
    });
    for (const id of ['1', '2', '3', 'x'])
      assert.equal((await fetch(`${service.url}/things/${id}?q=${id}`)).status, 200);
    const scraped = await scrape(service.url);
    assert.equal(
      requestCount(scraped, '/things/:thingId', { http_request_method: 'GET', http_response_status_code: '200' }),
      before + 4,
    );
    assert.equal(scraped.families.get('http_server_request_duration_seconds'), 'histogram');
    const routes = new Set(
      scraped.series('http_server_request_duration_seconds_count').map((s) => s.labels['http_route']),
    );
    assert.ok(![...routes].some((route) => route?.includes('/things/1')), [...routes].join(', '));
    const buckets = scraped.series('http_server_request_duration_seconds_bucket', {
      http_route: '/things/:thingId',
      http_response_status_code: '200',
    });
    assert.equal(buckets.find((b) => b.labels['le'] === '+Inf')?.value, before + 4);
  });

  it('when paths no route matches are asked, then they share one fixed route label, whatever they were', async () => {
    for (let i = 0; i < 5; i += 1) assert.equal((await fetch(`${service.url}/scan-${i}/admin.php`)).status, 404);
    const scraped = await scrape(service.url);
    assert.ok(requestCount(scraped, 'unmatched', { http_response_status_code: '404' }) >= 5);
    assert.ok(!scraped.text.includes('scan-'), 'no raw path in any label');
  });

  it('when an unknown method is used, then it is counted as _OTHER', async () => {
    assert.equal((await fetch(`${service.url}/things/1`, { method: 'PROPFIND' })).status, 404);
    const methods = new Set(
      (await scrape(service.url))
        .series('http_server_request_duration_seconds_count')
        .map((s) => s.labels['http_request_method']),
    );
    assert.ok(methods.has('_OTHER'), [...methods].join(', '));
    for (const method of methods)
      assert.ok(
        ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'CONNECT', '_OTHER'].includes(
          method ?? '',
        ),
        String(method),
      );
  });

  it('when the endpoint is asked oddly, then junk in the query is ignored, HEAD answers, other methods get 405 and never a 5xx', async () => {
    assert.equal((await fetch(`${service.url}/actuator/prometheus?name[]=x&%zz`)).status, 200);
    const head = await fetch(`${service.url}/actuator/prometheus`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const answer = await fetch(`${service.url}/actuator/prometheus`, {
        method,
        body: 'x',
        headers: { 'content-type': 'text/plain' },
      });
      assert.equal(answer.status, 405, method);
      assert.equal(answer.headers.get('allow'), 'GET, HEAD');
      assert.equal(((await answer.json()) as { status: number }).status, 405);
    }
  });

  it('when scraped, then the Node runtime is there: event loop delay, heap and garbage collection', async () => {
    const { families } = await scrape(service.url);
    for (const name of [
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_gc_duration_seconds',
      'process_cpu_seconds_total',
    ]) {
      assert.ok(families.has(name), name);
    }
  });

  it('when events are handled, retried and dead-lettered, then each counter of the consumer rises by what happened', async () => {
    const labels = { messaging_destination_name: 'things', messaging_consumer_group_name: 'thingsGroup' };
    const start = await scrape(service.url);
    assert.equal(start.value('messaging_process_total', labels), 0, 'the series exists from the start');
    await bus.publish([
      { destination: 'things', payload: 'fine' },
      { destination: 'things', payload: 'fine' },
      { destination: 'things', payload: 'poison' },
    ]);
    const scraped = await eventually(async () => {
      const now = await scrape(service.url);
      assert.equal(now.value('messaging_process_dead_lettered_total', labels), 1);
      return now;
    });
    assert.equal(scraped.value('messaging_process_total', labels), 2);
    // Three attempts at the poison event: two of them retries.
    assert.equal(scraped.value('messaging_process_retried_total', { ...labels, reason: 'rejected' }), 2);
    assert.equal(scraped.value('messaging_process_retried_total', { ...labels, reason: 'infrastructure' }), 0);
    assert.equal(scraped.value('messaging_process_lag_seconds_count', labels), 3);
    assert.equal(scraped.value('messaging_process_duration_seconds_count', labels), 3);
    assert.equal(bus.deadLetters('things', 'thingsGroup').length, 1);
  });

  it("when two services run in one process, then each shows only its own series (the runtime's are the process's)", async () => {
    const other = await startThings(bus, 'others');
    try {
      await fetch(`${other.url}/things/1`);
      const mine = await scrape(service.url);
      const theirs = await scrape(other.url);
      assert.ok(
        mine.series('messaging_process_total').every((s) => s.labels['messaging_destination_name'] === 'things'),
      );
      assert.ok(
        theirs.series('messaging_process_total').every((s) => s.labels['messaging_destination_name'] === 'others'),
      );
      assert.equal(requestCount(theirs, '/things/:thingId'), 1);
    } finally {
      await other.close();
    }
  });
});

describe('metrics switched off', () => {
  it('when metrics.enabled is false, then /actuator/prometheus answers 404 and the rest works', async () => {
    const bus = createInProcessBus(config().messaging, logger);
    const service = await startThings(bus, 'quiet', { enabled: false });
    try {
      assert.equal((await fetch(`${service.url}/actuator/prometheus`)).status, 404);
      assert.equal((await fetch(`${service.url}/things/1`)).status, 200);
    } finally {
      await service.close();
      await bus.close();
    }
  });
});
