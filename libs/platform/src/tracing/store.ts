import { SpanKind, SpanStatusCode, type Attributes } from '@landscape/vendor/@opentelemetry/api';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';

/** One finished span as the trace page shows it. */
export interface StoredSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  service: string;
  name: string;
  kind: 'INTERNAL' | 'SERVER' | 'CLIENT' | 'PRODUCER' | 'CONSUMER';
  /** Epoch milliseconds. */
  startMs: number;
  durationMs: number;
  status: 'UNSET' | 'OK' | 'ERROR';
  statusMessage?: string;
  attributes: Record<string, string | number | boolean>;
}

export interface TraceSummary {
  traceId: string;
  /** The root span's service and name (or the earliest span's when the root is not here). */
  service: string;
  name: string;
  startMs: number;
  durationMs: number;
  spanCount: number;
  services: string[];
  errors: number;
}

export interface SpanStoreLimits {
  maxTraces: number;
  maxSpansPerTrace: number;
}

const KINDS: Record<number, StoredSpan['kind']> = {
  [SpanKind.INTERNAL]: 'INTERNAL',
  [SpanKind.SERVER]: 'SERVER',
  [SpanKind.CLIENT]: 'CLIENT',
  [SpanKind.PRODUCER]: 'PRODUCER',
  [SpanKind.CONSUMER]: 'CONSUMER',
};

export const kindName = (kind: number): StoredSpan['kind'] => KINDS[kind] ?? 'INTERNAL';

export const statusName = (code: number): StoredSpan['status'] =>
  code === SpanStatusCode.ERROR ? 'ERROR' : code === SpanStatusCode.OK ? 'OK' : 'UNSET';

/** Recent traces, bounded in traces and in spans per trace: a new trace beyond the bound drops the oldest. */
export class SpanStore {
  readonly #traces = new Map<string, StoredSpan[]>();
  #sendTo: ((span: StoredSpan) => void) | undefined;
  readonly limits: SpanStoreLimits;

  constructor(limits: SpanStoreLimits) {
    this.limits = limits;
  }

  add(span: StoredSpan): void {
    if (this.#sendTo) return this.#sendTo(span);
    let spans = this.#traces.get(span.traceId);
    if (!spans) {
      spans = [];
      this.#traces.set(span.traceId, spans);
      // A Map iterates in insertion order: the first key is the oldest trace.
      for (const oldest of this.#traces.keys()) {
        if (this.#traces.size <= this.limits.maxTraces) break;
        this.#traces.delete(oldest);
      }
    }
    if (spans.length < this.limits.maxSpansPerTrace) spans.push(span);
  }

  /** One trace's spans in start order, or undefined when it is not (or no longer) here. */
  trace(traceId: string): StoredSpan[] | undefined {
    const spans = this.#traces.get(traceId);
    return spans && [...spans].sort((a, b) => a.startMs - b.startMs);
  }

  /** The newest traces first. */
  list(limit = 100): TraceSummary[] {
    return [...this.#traces.entries()]
      .reverse()
      .slice(0, limit)
      .map(([traceId, spans]) => summarise(traceId, spans));
  }

  /**
   * From now on hands every span to `send` instead of keeping it: the all-in-one process whose edge runs
   * in a thread of its own keeps its traces there, where the edge's management port serves them.
   */
  sendTo(send: (span: StoredSpan) => void): void {
    this.#sendTo = send;
  }

  clear(): void {
    this.#traces.clear();
  }
}

function summarise(traceId: string, spans: StoredSpan[]): TraceSummary {
  const ids = new Set(spans.map((s) => s.spanId));
  const start = Math.min(...spans.map((s) => s.startMs));
  const end = Math.max(...spans.map((s) => s.startMs + s.durationMs));
  const root = spans.find((s) => s.parentSpanId === undefined || !ids.has(s.parentSpanId)) ?? spans[0];
  return {
    traceId,
    service: root?.service ?? '',
    name: root?.name ?? '',
    startMs: start,
    durationMs: end - start,
    spanCount: spans.length,
    services: [...new Set(spans.map((s) => s.service))],
    errors: spans.filter((s) => s.status === 'ERROR').length,
  };
}

let shared: SpanStore | undefined;

/** The process's one store: in the all-in-one process every service's spans and the edge's meet there. */
export function processSpanStore(limits: SpanStoreLimits = { maxTraces: 200, maxSpansPerTrace: 500 }): SpanStore {
  shared ??= new SpanStore(limits);
  return shared;
}

const plain = (attributes: Attributes): StoredSpan['attributes'] => {
  const out: StoredSpan['attributes'] = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[key] = value;
    else if (Array.isArray(value)) out[key] = value.join(',');
  }
  return out;
};

const millis = ([seconds, nanos]: [number, number]) => seconds * 1000 + nanos / 1e6;

export function storedSpan(span: ReadableSpan): StoredSpan {
  const { traceId, spanId } = span.spanContext();
  const parent = span.parentSpanContext?.spanId;
  return {
    traceId,
    spanId,
    ...(parent ? { parentSpanId: parent } : {}),
    service: String(span.resource.attributes['service.name'] ?? ''),
    name: span.name,
    kind: kindName(span.kind),
    startMs: millis(span.startTime),
    durationMs: millis(span.duration),
    status: statusName(span.status.code),
    ...(span.status.message ? { statusMessage: span.status.message } : {}),
    attributes: plain(span.attributes),
  };
}

/** Hands every finished, sampled span to the store, synchronously: it is only a push into a bounded map. */
export function storeProcessor(store: SpanStore): SpanProcessor {
  return {
    onStart: () => {},
    onEnd: (span) => store.add(storedSpan(span)),
    forceFlush: async () => {},
    shutdown: async () => {},
  };
}
