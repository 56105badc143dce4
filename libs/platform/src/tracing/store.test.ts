import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpanStore, type StoredSpan } from './store.ts';
import { summariseQuery } from './database.ts';
import { fromOtlp } from './viewer.ts';

const span = (traceId: string, spanId: string, extra: Partial<StoredSpan> = {}): StoredSpan => ({
  traceId,
  spanId,
  service: 's',
  name: 'n',
  kind: 'SERVER',
  startMs: 1000,
  durationMs: 10,
  status: 'UNSET',
  attributes: {},
  ...extra,
});
const id = (n: number) => n.toString(16).padStart(32, '0');

describe('span store', () => {
  it('when more traces arrive than it keeps, then the oldest go first and the newest are listed first', () => {
    const store = new SpanStore({ maxTraces: 3, maxSpansPerTrace: 10 });
    for (let n = 1; n <= 5; n += 1) store.add(span(id(n), 'a'.repeat(16)));
    assert.deepEqual(
      store.list().map((t) => t.traceId),
      [id(5), id(4), id(3)],
    );
    assert.equal(store.trace(id(1)), undefined);
  });

  it('when a trace has more spans than it keeps, then the spans past the bound are dropped', () => {
    const store = new SpanStore({ maxTraces: 3, maxSpansPerTrace: 2 });
    for (let n = 0; n < 5; n += 1) store.add(span(id(1), String(n).repeat(16)));
    assert.equal(store.trace(id(1))?.length, 2);
  });

  it('when it sends its spans elsewhere, then each goes there as added and none stays', () => {
    const store = new SpanStore({ maxTraces: 3, maxSpansPerTrace: 10 });
    const sent: StoredSpan[] = [];
    store.sendTo((s) => sent.push(s));
    store.add(span(id(1), 'a'.repeat(16)));
    store.add(span(id(2), 'b'.repeat(16)));
    assert.deepEqual(
      sent.map((s) => s.traceId),
      [id(1), id(2)],
    );
    assert.deepEqual(store.list(), []);
  });

  it('when a trace is summarised, then its root, services, extent and errors are those of its spans', () => {
    const store = new SpanStore({ maxTraces: 3, maxSpansPerTrace: 10 });
    store.add(
      span(id(1), 'b'.repeat(16), {
        parentSpanId: 'a'.repeat(16),
        service: 'core',
        startMs: 1005,
        durationMs: 20,
        status: 'ERROR',
      }),
    );
    store.add(span(id(1), 'a'.repeat(16), { service: 'edge', name: 'GET /x', startMs: 1000, durationMs: 10 }));
    assert.deepEqual(store.list()[0], {
      traceId: id(1),
      service: 'edge',
      name: 'GET /x',
      startMs: 1000,
      durationMs: 25,
      spanCount: 2,
      services: ['core', 'edge'],
      errors: 1,
    });
    assert.deepEqual(
      store.trace(id(1))?.map((s) => s.service),
      ['edge', 'core'],
      'in start order',
    );
  });
});

describe('OTLP/JSON spans', () => {
  it("when an export request is read, then each span keeps its ids, its resource's service name, kind, times, status and attributes", () => {
    const spans = fromOtlp({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'product' } }] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId: id(7),
                  spanId: 'c'.repeat(16),
                  parentSpanId: 'd'.repeat(16),
                  name: 'GET /product/:productId',
                  kind: 2,
                  startTimeUnixNano: '1700000000000000000',
                  endTimeUnixNano: '1700000000002500000',
                  attributes: [
                    { key: 'http.response.status_code', value: { intValue: '200' } },
                    { key: 'url.path', value: { stringValue: '/product/1' } },
                  ],
                  status: { code: 2, message: 'boom' },
                },
              ],
            },
          ],
        },
      ],
    });
    assert.deepEqual(spans, [
      {
        traceId: id(7),
        spanId: 'c'.repeat(16),
        parentSpanId: 'd'.repeat(16),
        service: 'product',
        name: 'GET /product/:productId',
        kind: 'SERVER',
        startMs: 1700000000000,
        durationMs: 2.5,
        status: 'ERROR',
        statusMessage: 'boom',
        attributes: { 'http.response.status_code': 200, 'url.path': '/product/1' },
      },
    ]);
  });

  it('when an export request carries malformed ids or times, then it is refused whole', () => {
    const bad = (span: Record<string, unknown>) => () =>
      fromOtlp({ resourceSpans: [{ scopeSpans: [{ spans: [span as never] }] }] });
    assert.throws(
      bad({ traceId: 'x', spanId: 'c'.repeat(16), name: 'n', startTimeUnixNano: '1', endTimeUnixNano: '2' }),
    );
    assert.throws(
      bad({ traceId: id(1), spanId: 'c'.repeat(16), name: 'n', startTimeUnixNano: '1.5', endTimeUnixNano: '2' }),
    );
  });
});

describe('query spans', () => {
  it('when a query is summarised, then its span name is the operation and the table, never a value', () => {
    assert.deepEqual(summariseQuery('select "name" from "products" where "product_id" = $1'), {
      operation: 'SELECT',
      collection: 'products',
    });
    assert.deepEqual(summariseQuery('insert into `reviews` (`a`) values (?)'), {
      operation: 'INSERT',
      collection: 'reviews',
    });
    assert.deepEqual(summariseQuery('update "recommendations" set "x" = ?'), {
      operation: 'UPDATE',
      collection: 'recommendations',
    });
    assert.deepEqual(summariseQuery('select 1'), { operation: 'SELECT' });
  });
});
