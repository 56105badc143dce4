// What the tracing tests share: calls through the edge with a chosen traceparent, and the check that
// one trace holds every hop of a write and a read.
import assert from 'node:assert/strict';
import { Agent, request } from 'undici';

export interface SpanView {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  service: string;
  name: string;
  kind: string;
  durationMs: number;
}

// The edge's certificate is the self-signed development one.
const insecure = new Agent({ connect: { rejectUnauthorized: false } });

export async function throughEdge(
  httpsPort: number,
  method: 'GET' | 'POST',
  path: string,
  token: string,
  headers: Record<string, string> = {},
  body?: unknown,
) {
  const answer = await request(`https://localhost:${httpsPort}${path}`, {
    method,
    dispatcher: insecure,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await answer.body.text();
  return { status: answer.statusCode, text };
}

export const product = (productId: number) => ({
  productId,
  name: `traced ${productId}`,
  weight: 1,
  recommendations: [{ recommendationId: 1, author: 'a', rate: 1, content: 'c' }],
  reviews: [{ reviewId: 1, author: 'a', subject: 's', content: 'c' }],
});

export const randomHex = (bytes: number) => Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('hex');

/** Which service did what: `service kind name` for every span of the trace. */
export const hops = (spans: SpanView[]) => new Set(spans.map((s) => `${s.service} ${s.kind} ${s.name}`));

/** A POST and a GET of one product under one trace id: every hop from the edge to the three consumers and their queries. */
export const EVERY_HOP = [
  'edge SERVER POST /product-composite',
  'product-composite SERVER POST /product-composite',
  'product-composite PRODUCER send products',
  'product-composite PRODUCER send recommendations',
  'product-composite PRODUCER send reviews',
  'product CONSUMER process products',
  'recommendation CONSUMER process recommendations',
  'review CONSUMER process reviews',
  'product CLIENT INSERT products',
  'recommendation CLIENT INSERT recommendations',
  'review CLIENT INSERT reviews',
  'edge SERVER GET /product-composite',
  'product-composite SERVER GET /product-composite/:productId',
  'product-composite CLIENT GET /product/{productId}',
  'product-composite CLIENT GET /recommendation',
  'product-composite CLIENT GET /review',
  'product SERVER GET /product/:productId',
  'recommendation SERVER GET /recommendation',
  'review SERVER GET /review',
  'product CLIENT SELECT products',
  'recommendation CLIENT SELECT recommendations',
  'review CLIENT SELECT reviews',
];

export function assertEveryHop(spans: SpanView[], traceId: string): void {
  const seen = hops(spans);
  const missing = EVERY_HOP.filter((hop) => !seen.has(hop));
  assert.deepEqual(missing, [], `hops missing from trace ${traceId}; seen: ${[...seen].join(' | ')}`);
  for (const span of spans) assert.equal(span.traceId, traceId);
  // Every span but the first hop's has its parent in the trace: nothing started a trace of its own.
  const ids = new Set(spans.map((s) => s.spanId));
  const roots = spans.filter((s) => !s.parentSpanId || !ids.has(s.parentSpanId));
  assert.deepEqual(
    roots.map((s) => s.service),
    roots.map(() => 'edge'),
    'only the edge spans are roots here',
  );
}
