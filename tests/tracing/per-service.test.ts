// Tracing with one process per service on PostgreSQL, MariaDB and RabbitMQ (`npm run start:services`):
// the services export their spans over OTLP/HTTP to the edge's management port, the trace context
// crosses process boundaries in HTTP headers and RabbitMQ message headers, and every process's log
// lines carry the ids. Takes the landscape's fixed ports: run under the landscape lock.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually, testDatabaseName } from '@landscape/platform/testing';
import { clientToken, startLandscape, type Started } from '../support/processes.ts';
import { assertEveryHop, product, randomHex, throughEdge, type SpanView } from './support.ts';

interface LogLine {
  service?: string;
  msg?: string;
  reqId?: string;
  trace_id?: string;
  span_id?: string;
}

const logLines = (output: string): LogLine[] =>
  output.split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      return [JSON.parse(line) as LogLine];
    } catch {
      return [];
    }
  });

describe('tracing, one process per service', () => {
  let running: Started | undefined;
  let writer: string;
  const traceOf = async (traceId: string) => {
    const answer = await fetch(`http://127.0.0.1:8081/traces/${traceId}`);
    assert.equal(answer.status, 200, `trace ${traceId} reached the edge's store`);
    return ((await answer.json()) as { spans: SpanView[] }).spans;
  };

  before(async () => {
    running = await startLandscape('start-services.ts', mkdtempSync(join(tmpdir(), 'landscape-')), {
      PRODUCT__DATABASE_DATABASE: testDatabaseName('product_trace'),
      RECOMMENDATION__DATABASE_DATABASE: testDatabaseName('recommendation_trace'),
      REVIEW__DATABASE_DATABASE: testDatabaseName('review_trace'),
      TRACING_ENABLED: 'true',
      // The services write their request lines at debug.
      LOGGING_LEVEL: 'debug',
      LOG_FORMAT: 'json',
      // Export batches often, so the test does not wait the default five seconds.
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    writer = await clientToken('http://127.0.0.1:9999', 'writer', 'product:read product:write');
  });
  after(async () => {
    await running?.stop();
  });

  it('when a client sends a traceparent with a POST and a GET, then one trace holds every hop, the consumers joined through RabbitMQ message headers', async () => {
    const productId = 600 + Math.floor(Math.random() * 300);
    await throughEdge(8443, 'POST', `/product-composite`, writer, {}, { productId, name: 'x', weight: 1 });
    const traceId = randomHex(16);
    const deleted = await fetch(`http://127.0.0.1:7000/product-composite/${productId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${writer}` },
    });
    assert.equal(deleted.status, 200);
    await eventually(
      async () => assert.equal((await fetch(`http://127.0.0.1:7001/product/${productId}`)).status, 404),
      { timeoutMs: 20000, intervalMs: 200 },
    );
    const posted = await throughEdge(
      8443,
      'POST',
      '/product-composite',
      writer,
      { traceparent: `00-${traceId}-${randomHex(8)}-01` },
      product(productId),
    );
    assert.equal(posted.status, 200, posted.text);
    await eventually(
      async () => {
        const read = await throughEdge(8443, 'GET', `/product-composite/${productId}`, writer, {
          traceparent: `00-${traceId}-${randomHex(8)}-01`,
        });
        assert.equal(JSON.parse(read.text).reviews.length, 1, 'the events were applied');
      },
      { timeoutMs: 20000, intervalMs: 200 },
    );
    const spans = await eventually(
      async () => {
        const found = await traceOf(traceId);
        assertEveryHop(found, traceId);
        return found;
      },
      { timeoutMs: 20000, intervalMs: 200 },
    );
    // The consumers run in other processes: their parent, the producer's span, came in the message's headers.
    const producers = new Map(spans.filter((s) => s.kind === 'PRODUCER').map((s) => [s.spanId, s.name]));
    for (const consumer of spans.filter((s) => s.kind === 'CONSUMER')) {
      assert.equal(
        producers.get(consumer.parentSpanId ?? ''),
        consumer.name.replace('process', 'send'),
        `${consumer.service}'s parent is its producer`,
      );
    }

    // Every service's log lines about this request carry its trace id; every request line carries ids.
    await eventually(
      () => {
        const lines = logLines(running?.output() ?? '');
        const traced = new Set(lines.filter((l) => l.trace_id === traceId).map((l) => l.service));
        for (const service of ['product-composite', 'product', 'recommendation', 'review'])
          assert.ok(traced.has(service), `${service} logged under the trace`);
      },
      { timeoutMs: 10000, intervalMs: 200 },
    );
    const requestLines = logLines(running?.output() ?? '').filter((l) => l.reqId !== undefined);
    assert.ok(requestLines.length > 10);
    for (const line of requestLines) {
      assert.match(line.trace_id ?? '', /^[0-9a-f]{32}$/, JSON.stringify(line));
      assert.match(line.span_id ?? '', /^[0-9a-f]{16}$/, JSON.stringify(line));
    }
  });

  it('when an event is rejected by its consumer, then the lines logged about it carry the trace id of the POST that published it', async () => {
    const productId = 900 + Math.floor(Math.random() * 90);
    await throughEdge(8443, 'POST', '/product-composite', writer, {}, { productId, name: 'first', weight: 1 });
    await eventually(
      async () => assert.equal((await fetch(`http://127.0.0.1:7001/product/${productId}`)).status, 200),
      { timeoutMs: 20000, intervalMs: 200 },
    );
    const traceId = randomHex(16);
    // A create of the same id with other content is a conflicting duplicate: retried, then dead-lettered.
    const posted = await throughEdge(
      8443,
      'POST',
      '/product-composite',
      writer,
      { traceparent: `00-${traceId}-${randomHex(8)}-01` },
      { productId, name: 'second', weight: 2 },
    );
    assert.equal(posted.status, 200, posted.text);
    await eventually(
      () => {
        const rejected = logLines(running?.output() ?? '').filter(
          (l) => l.service === 'product' && l.trace_id === traceId && /rejected/.test(l.msg ?? ''),
        );
        assert.ok(rejected.length >= 2, 'the retries and the dead-lettering are logged under the trace');
      },
      { timeoutMs: 20000, intervalMs: 200 },
    );
    await fetch(`http://127.0.0.1:7000/product-composite/${productId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${writer}` },
    });
  });
});
