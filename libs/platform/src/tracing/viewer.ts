import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorBody } from '../errors.ts';
import { kindName, statusName, type SpanStore, type StoredSpan } from './store.ts';

const TRACE_ID = /^[0-9a-f]{32}$/i;
const OTLP_BODY_LIMIT = 4 * 1024 * 1024;

// The page's script and styles are files of their own, so the policy allows no inline code at all.
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const asset = (name: string) => readFileSync(new URL(`./viewer/${name}`, import.meta.url));
const ASSETS: Record<string, { type: string; body: Buffer }> = {
  '/trace-viewer': { type: 'text/html; charset=utf-8', body: asset('page.html') },
  '/trace-viewer/viewer.js': { type: 'text/javascript; charset=utf-8', body: asset('viewer.js') },
  '/trace-viewer/viewer.css': { type: 'text/css; charset=utf-8', body: asset('viewer.css') },
};

function send(response: ServerResponse, status: number, type: string, body: string | Buffer): void {
  response.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'content-security-policy': CSP,
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
  });
  response.end(body);
}

const json = (response: ServerResponse, status: number, body: unknown) =>
  send(response, status, 'application/json; charset=utf-8', JSON.stringify(body));

/**
 * The trace pages of a management port, read from a span store: `GET /traces` (recent traces, newest
 * first), `GET /traces/{traceId}` (one trace's spans), `GET /trace-viewer` (the waterfall page), and
 * `POST /v1/traces`, an OTLP/HTTP JSON receiver, so services in processes of their own can send their
 * spans to the edge's store. Returns false for any other path.
 */
export function traceRoutes(store: SpanStore) {
  return (request: IncomingMessage, response: ServerResponse, path: string): boolean => {
    const ours =
      path === '/v1/traces' || path === '/traces' || path.startsWith('/traces/') || ASSETS[path] !== undefined;
    if (ours) answer(request, response, path, store);
    return ours;
  };
}

function answer(request: IncomingMessage, response: ServerResponse, path: string, store: SpanStore): void {
  const method = request.method ?? 'GET';
  if (path === '/v1/traces') {
    if (method === 'POST') receiveOtlp(request, response, store, path);
    else refuse(response, path, 'POST');
    return;
  }
  if (method !== 'GET' && method !== 'HEAD') return refuse(response, path, 'GET, HEAD');
  const page = ASSETS[path];
  if (page) return send(response, 200, page.type, page.body);
  if (path === '/traces') return json(response, 200, { traces: store.list() });
  const id = path.slice('/traces/'.length).toLowerCase();
  if (!TRACE_ID.test(id))
    return json(response, 400, errorBody(400, path, 'Invalid trace id: 32 hexadecimal digits expected'));
  const spans = store.trace(id);
  if (!spans) return json(response, 404, errorBody(404, path, `No trace ${id} here (unknown, or no longer kept)`));
  json(response, 200, { traceId: id, spans });
}

function refuse(response: ServerResponse, path: string, allow: string): void {
  response.setHeader('allow', allow);
  json(response, 405, errorBody(405, path, `Method not allowed; allowed: ${allow}`));
}

function receiveOtlp(request: IncomingMessage, response: ServerResponse, store: SpanStore, path: string): void {
  if (!(request.headers['content-type'] ?? '').startsWith('application/json')) {
    request.resume();
    return json(response, 415, errorBody(415, path, 'OTLP/HTTP with JSON bodies only (application/json)'));
  }
  const chunks: Buffer[] = [];
  let size = 0;
  request.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= OTLP_BODY_LIMIT) chunks.push(chunk);
  });
  request.on('end', () => {
    if (size > OTLP_BODY_LIMIT)
      return json(response, 413, errorBody(413, path, `Body larger than ${OTLP_BODY_LIMIT} bytes`));
    let spans: StoredSpan[];
    try {
      spans = fromOtlp(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    } catch {
      return json(response, 400, errorBody(400, path, 'Malformed OTLP/JSON body'));
    }
    for (const span of spans) store.add(span);
    json(response, 200, {});
  });
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpAttribute {
  key: string;
  value?: OtlpValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: OtlpAttribute[];
  status?: { code?: number; message?: string };
}
interface OtlpBody {
  resourceSpans?: Array<{ resource?: { attributes?: OtlpAttribute[] }; scopeSpans?: Array<{ spans?: OtlpSpan[] }> }>;
}

function attributesOf(list: OtlpAttribute[] | undefined): StoredSpan['attributes'] {
  const out: StoredSpan['attributes'] = {};
  for (const { key, value } of list ?? []) {
    if (typeof key !== 'string' || !value) continue;
    const v =
      value.stringValue ??
      value.boolValue ??
      value.doubleValue ??
      (value.intValue === undefined ? undefined : Number(value.intValue));
    if (v !== undefined) out[key] = v;
  }
  return out;
}

const nanosToMs = (nanos: string | number) => Number(BigInt(nanos) / 1000n) / 1000;

/** The spans of an OTLP/JSON export request (ids in hex, as OTLP/JSON has them); throws on a wrong shape. */
export function fromOtlp(body: OtlpBody): StoredSpan[] {
  const out: StoredSpan[] = [];
  for (const resourceSpans of body.resourceSpans ?? []) {
    const service = String(attributesOf(resourceSpans.resource?.attributes)['service.name'] ?? 'unknown');
    for (const scope of resourceSpans.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        if (!TRACE_ID.test(span.traceId) || !/^[0-9a-f]{16}$/i.test(span.spanId)) throw new Error('bad ids');
        const startMs = nanosToMs(span.startTimeUnixNano);
        out.push({
          traceId: span.traceId.toLowerCase(),
          spanId: span.spanId.toLowerCase(),
          ...(span.parentSpanId ? { parentSpanId: span.parentSpanId.toLowerCase() } : {}),
          service,
          name: String(span.name),
          // OTLP counts kinds from 1 (INTERNAL); the API from 0.
          kind: kindName((span.kind ?? 1) - 1),
          startMs,
          durationMs: nanosToMs(span.endTimeUnixNano) - startMs,
          status: statusName(span.status?.code ?? 0),
          ...(span.status?.message ? { statusMessage: span.status.message } : {}),
          attributes: attributesOf(span.attributes),
        });
      }
    }
  }
  return out;
}
