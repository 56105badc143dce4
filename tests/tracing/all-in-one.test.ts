// Tracing in the all-in-one shape: the edge and every service in this one process on free ports, the
// in-process bus between them, and the process's span store that the edge's management port serves.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertContractError, eventually } from '@landscape/platform/testing';
import { startInProcessLandscape, type InProcessLandscape } from '../fault/landscape.ts';
import { assertEveryHop, product, randomHex, throughEdge, type SpanView } from './support.ts';

describe('tracing, all in one process', () => {
  let landscape: InProcessLandscape;
  let writer: string;
  const management = (path: string) => fetch(`http://127.0.0.1:${landscape.edge.managementPort}${path}`);
  const traceOf = async (traceId: string) => {
    const answer = await management(`/traces/${traceId}`);
    assert.equal(answer.status, 200, `trace ${traceId} is in the edge's store`);
    return ((await answer.json()) as { spans: SpanView[] }).spans;
  };

  before(async () => {
    landscape = await startInProcessLandscape({ TRACING_ENABLED: 'true' });
    writer = await landscape.token('writer', 'product:read product:write');
  });
  after(async () => {
    await landscape?.close();
  });

  it('when a client sends a traceparent with a POST and a GET, then one trace holds the edge, the composite, the three core services and the three CREATE consumers', async () => {
    const traceId = randomHex(16);
    const traceparent = `00-${traceId}-${randomHex(8)}-01`;
    const posted = await throughEdge(
      landscape.edge.httpsPort,
      'POST',
      '/product-composite',
      writer,
      { traceparent },
      product(501),
    );
    assert.equal(posted.status, 200, posted.text);
    await eventually(
      async () => {
        const read = await throughEdge(landscape.edge.httpsPort, 'GET', '/product-composite/501', writer, {
          traceparent: `00-${traceId}-${randomHex(8)}-01`,
        });
        assert.equal(JSON.parse(read.text).reviews.length, 1, 'the events were applied');
      },
      { timeoutMs: 10000, intervalMs: 100 },
    );
    const spans = await eventually(
      async () => {
        const found = await traceOf(traceId);
        assertEveryHop(found, traceId);
        return found;
      },
      { timeoutMs: 10000, intervalMs: 100 },
    );
    // The edge's span continues the client's: its parent is the span id the client sent.
    const edgePost = spans.find((s) => s.service === 'edge' && s.name === 'POST /product-composite');
    assert.equal(edgePost?.parentSpanId, traceparent.split('-')[2]);
  });

  it('when a POST arrives without a traceparent, then the edge starts a trace that the three consumers join', async () => {
    const posted = await throughEdge(landscape.edge.httpsPort, 'POST', '/product-composite', writer, {}, product(502));
    assert.equal(posted.status, 200, posted.text);
    await eventually(
      async () => {
        const { traces } = (await (await management('/traces')).json()) as {
          traces: Array<{ traceId: string; service: string; name: string; services: string[] }>;
        };
        const newest = traces.find((t) => t.service === 'edge' && t.name === 'POST /product-composite');
        assert.ok(newest);
        assert.deepEqual(
          new Set(newest.services),
          new Set(['edge', 'product-composite', 'product', 'recommendation', 'review']),
        );
        const names = (await traceOf(newest.traceId))
          .filter((s) => s.kind === 'CONSUMER')
          .map((s) => s.service)
          .sort();
        assert.deepEqual(names, ['product', 'recommendation', 'review']);
      },
      { timeoutMs: 10000, intervalMs: 100 },
    );
  });

  it('when a traceparent is malformed, then it is ignored: the request succeeds and starts a new trace', async () => {
    const posted = await throughEdge(landscape.edge.httpsPort, 'POST', '/product-composite', writer, {}, product(503));
    assert.equal(posted.status, 200, posted.text);
    // Awaited on the product service itself, so the edge counts no reads of the waiting.
    await eventually(async () => assert.equal((await fetch(`${landscape.urls.product}/product/503`)).status, 200), {
      timeoutMs: 10000,
      intervalMs: 100,
    });
    const edgeReads = async () =>
      (
        (await (await management('/traces')).json()) as { traces: Array<{ service: string; name: string }> }
      ).traces.filter((t) => t.service === 'edge' && t.name === 'GET /product-composite').length;
    const before = await edgeReads();
    for (const traceparent of [
      '00-zz-not-a-trace',
      `00-${'0'.repeat(32)}-${randomHex(8)}-01`,
      `ff-${randomHex(16)}-${randomHex(8)}-01`,
      'x'.repeat(600),
    ]) {
      const read = await throughEdge(landscape.edge.httpsPort, 'GET', '/product-composite/503', writer, {
        traceparent,
      });
      assert.equal(read.status, 200, `${traceparent}: ${read.text}`);
    }
    assert.equal(await edgeReads(), before + 4, 'each of them started a trace of its own at the edge');
    const { traces } = (await (await management('/traces')).json()) as {
      traces: Array<{ traceId: string; name: string }>;
    };
    for (const trace of traces) assert.match(trace.traceId, /^[0-9a-f]{32}$/);
    assert.ok(!traces.some((t) => t.traceId === '0'.repeat(32)));
  });

  it("when a trace id is unknown or malformed, then the trace endpoint answers 404 or 400 in the contract's shape", async () => {
    const unknown = await management(`/traces/${randomHex(16)}`);
    assertContractError({ status: unknown.status, body: await unknown.json() }, 404, /^No trace [0-9a-f]{32} here/);
    for (const bad of ['123', 'g'.repeat(32), `${randomHex(16)}0`, '%3Cscript%3E']) {
      const answer = await management(`/traces/${bad}`);
      assertContractError({ status: answer.status, body: await answer.json() }, 400, /\S/);
    }
    assert.equal((await management('/traces')).headers.get('content-type'), 'application/json; charset=utf-8');
  });
});
