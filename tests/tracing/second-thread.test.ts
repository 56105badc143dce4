// Tracing in `npm start`, where the edge and the core services run in a second thread: the spans of
// the composite and the auth-server, made on the main thread, and those of the events, published on
// one thread and consumed on the other, must all reach the store the edge's management port serves.
// Takes the landscape's fixed ports: run under the landscape lock.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '@landscape/platform/testing';
import { clientToken, startLandscape, type Started } from '../support/processes.ts';
import { assertEveryHop, product, randomHex, throughEdge, type SpanView } from './support.ts';

describe('tracing, npm start with the edge and the core services in a second thread', () => {
  let running: Started | undefined;
  let writer: string;

  before(async () => {
    running = await startLandscape('start.ts', mkdtempSync(join(tmpdir(), 'landscape-')), { TRACING_ENABLED: 'true' });
    writer = await clientToken('http://127.0.0.1:9999', 'writer', 'product:read product:write');
  });
  after(async () => {
    await running?.stop();
  });

  it("when a client sends a traceparent with a POST and a GET, then the edge's trace page holds every hop, the edge's and the services'", async () => {
    const traceId = randomHex(16);
    const traceparent = () => `00-${traceId}-${randomHex(8)}-01`;
    const posted = await throughEdge(
      8443,
      'POST',
      '/product-composite',
      writer,
      { traceparent: traceparent() },
      product(701),
    );
    assert.equal(posted.status, 200, posted.text);
    await eventually(
      async () => {
        const read = await throughEdge(8443, 'GET', '/product-composite/701', writer, { traceparent: traceparent() });
        assert.equal(JSON.parse(read.text).reviews.length, 1, 'the events were applied');
      },
      { timeoutMs: 10000, intervalMs: 100 },
    );
    await eventually(
      async () => {
        const answer = await fetch(`http://127.0.0.1:8081/traces/${traceId}`);
        assert.equal(answer.status, 200, `trace ${traceId} is in the edge's store`);
        assertEveryHop(((await answer.json()) as { spans: SpanView[] }).spans, traceId);
      },
      { timeoutMs: 10000, intervalMs: 100 },
    );
  });
});
