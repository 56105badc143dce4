import { createRequire } from 'node:module';
import {
  context,
  propagation,
  SpanStatusCode,
  trace,
  type Span,
  type Tracer,
} from '@landscape/vendor/@opentelemetry/api';
import type { Sampler, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { TracingConfig } from './config.ts';
import { processSpanStore, storeProcessor } from './store.ts';

/** One service's tracer. Disabled, nothing is instrumented and the tracer is never asked for a span. */
export interface Tracing {
  enabled: boolean;
  service: string;
  tracer: Tracer;
  /** Exports what is still buffered, then stops. */
  shutdown(): Promise<void>;
}

type Env = Record<string, string | undefined>;

// The SDK (provider, samplers, exporter, resources: some 200 modules, about 4.5 MiB of a service's
// resident set) loads only when a service turns tracing on; disabled, the no-op tracer of @opentelemetry/api is all a process needs.
const require = createRequire(import.meta.url);
type Sdk = typeof import('@opentelemetry/sdk-trace-base');
type Exporter = typeof import('@opentelemetry/exporter-trace-otlp-http');
type Resources = typeof import('@opentelemetry/resources');
type ContextManager = typeof import('@opentelemetry/context-async-hooks');
type Core = typeof import('@opentelemetry/core');
const otel = {
  sdk: () => require('@opentelemetry/sdk-trace-base') as Sdk,
  exporter: () => require('@opentelemetry/exporter-trace-otlp-http') as Exporter,
  resources: () => require('@opentelemetry/resources') as Resources,
  contextManager: () => require('@opentelemetry/context-async-hooks') as ContextManager,
  core: () => require('@opentelemetry/core') as Core,
};

export const disabledTracing = (service: string): Tracing => ({
  enabled: false,
  service,
  tracer: trace.getTracer(service),
  shutdown: async () => {},
});

let contextInstalled = false;

/**
 * The process's context (AsyncLocalStorage) and W3C trace-context propagator, installed once and shared:
 * in the all-in-one process every service's spans and log lines read the same active context.
 */
function installContext(): void {
  if (contextInstalled) return;
  contextInstalled = true;
  const { AsyncLocalStorageContextManager } = otel.contextManager();
  const { W3CTraceContextPropagator } = otel.core();
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
}

/** OTEL_TRACES_SAMPLER and its argument when set, else parent-based with the configured ratio for new traces. */
export function samplerOf(ratio: number, env: Env): Sampler {
  const raw = env['OTEL_TRACES_SAMPLER_ARG'];
  const argument = raw === undefined || raw.trim() === '' ? Number.NaN : Number(raw);
  const given = argument >= 0 && argument <= 1 ? argument : ratio;
  const { AlwaysOnSampler, AlwaysOffSampler, ParentBasedSampler, TraceIdRatioBasedSampler } = otel.sdk();
  switch (env['OTEL_TRACES_SAMPLER']) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(given);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    // parentbased_traceidratio, and what the configuration asks for when nothing is set.
    default:
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(given) });
  }
}

/** OTLP/HTTP export when an endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT or its traces variant) and not switched off. */
export function exportsOtlp(env: Env): boolean {
  if (env['OTEL_TRACES_EXPORTER'] === 'none') return false;
  return Boolean(env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_ENDPOINT']);
}

export function tracingEnabled(config: TracingConfig, env: Env): boolean {
  return config.enabled && env['OTEL_SDK_DISABLED']?.trim().toLowerCase() !== 'true';
}

/**
 * A tracer provider of the service's own, so each span carries its service's name as its resource even
 * when several services share the process; the context and propagator are the process's. Spans go to
 * the process's span store and, when an OTLP endpoint is set, to it over OTLP/HTTP.
 */
export function createTracing(service: string, config: TracingConfig, env: Env = process.env): Tracing {
  if (!tracingEnabled(config, env)) return disabledTracing(service);
  installContext();
  const { BasicTracerProvider, BatchSpanProcessor } = otel.sdk();
  const { OTLPTraceExporter } = otel.exporter();
  const { detectResources, envDetector, resourceFromAttributes } = otel.resources();
  const spanProcessors: SpanProcessor[] = [];
  if (config.store.maxTraces > 0) spanProcessors.push(storeProcessor(processSpanStore(config.store)));
  // The exporter reads OTEL_EXPORTER_OTLP_* (endpoint, headers, timeout) and the batch OTEL_BSP_* itself.
  if (exportsOtlp(env)) spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter()));
  const resource = detectResources({ detectors: [envDetector] }).merge(
    resourceFromAttributes({ 'service.name': service }),
  );
  const provider = new BasicTracerProvider({ resource, sampler: samplerOf(config.sampleRatio, env), spanProcessors });
  return {
    enabled: true,
    service,
    tracer: provider.getTracer('@landscape/platform'),
    shutdown: () => provider.shutdown(),
  };
}

/** The active span's ids for a log line; nothing outside a span. */
export function traceFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

/** Marks a span failed: `error.type` (the given one, else the error's name) and the error's message as its status. */
export function markFailed(span: Span, error: unknown, type = error instanceof Error ? error.name : 'Error'): void {
  span.setAttribute('error.type', type);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}
