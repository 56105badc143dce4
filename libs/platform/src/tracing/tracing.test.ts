import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { Value } from '@landscape/vendor/typebox/value';
import { createInProcessBus } from '../messaging/in-process.ts';
import { eventually } from '../testing/eventually.ts';
import { packagesLoadedBy } from '../testing/modules.ts';
import { testConfig, testLogger } from '../messaging/test-support.ts';
import { tracingConfigSchema, type TracingConfig } from './config.ts';
import { tracedBus } from './messaging.ts';
import { processSpanStore } from './store.ts';
import { createTracing, traceFields } from './tracing.ts';

const config = (overrides: Partial<TracingConfig> = {}) =>
  Value.Default(tracingConfigSchema, { enabled: true, ...overrides }) as TracingConfig;

const recorded = (env: Record<string, string>, overrides: Partial<TracingConfig> = {}) => {
  const tracing = createTracing('sampled', config(overrides), env);
  const span = tracing.tracer.startSpan('x');
  span.end();
  return span.isRecording() || span.spanContext().traceFlags === 1;
};

describe('loading', () => {
  it('the platform loads only the OpenTelemetry API; the SDK waits for a service that turns tracing on', async () => {
    const packages = await packagesLoadedBy('@landscape/platform', import.meta.dirname);
    assert.ok(packages.includes('@opentelemetry/api'), `the hook saw the platform's packages: ${packages.join(', ')}`);
    const sdk = packages.filter((name) => name.startsWith('@opentelemetry/') && name !== '@opentelemetry/api');
    assert.deepEqual(sdk, []);
  });
});

describe('tracing configuration', () => {
  it('when OTEL_SDK_DISABLED is true or tracing.enabled false, then nothing is traced', () => {
    assert.equal(createTracing('s', config(), { OTEL_SDK_DISABLED: 'true' }).enabled, false);
    assert.equal(createTracing('s', config({ enabled: false }), {}).enabled, false);
    assert.equal(createTracing('s', config(), {}).enabled, true);
  });

  it('when OTEL_TRACES_SAMPLER is set, then it chooses the sampler; otherwise the configured ratio does', () => {
    assert.equal(recorded({}), true);
    assert.equal(recorded({}, { sampleRatio: 0 }), false);
    assert.equal(recorded({ OTEL_TRACES_SAMPLER: 'always_off' }), false);
    assert.equal(recorded({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' }), false);
    assert.equal(recorded({ OTEL_TRACES_SAMPLER: 'always_on' }, { sampleRatio: 0 }), true);
  });
});

describe('log correlation', () => {
  it("when a line is logged inside a span, then it carries that span's trace_id and span_id; outside, none", () => {
    const tracing = createTracing('logs', config(), {});
    const span = tracing.tracer.startSpan('work');
    const fields = context.with(trace.setSpan(context.active(), span), () => traceFields());
    span.end();
    assert.deepEqual(fields, { trace_id: span.spanContext().traceId, span_id: span.spanContext().spanId });
    assert.deepEqual(traceFields(), {});
  });
});

describe('events', () => {
  it("when an event is published inside a span, then its consumer's span is a child of the producer's, in the same trace", async () => {
    const tracing = createTracing('bus-test', config(), {});
    const inner = createInProcessBus(testConfig({ kind: 'in-process' }), testLogger());
    const bus = tracedBus(inner, tracing, 'in-process');
    const seen: Array<{ traceId: string; spanId: string; headers: Record<string, string> }> = [];
    await bus.subscribe('things', 'thingsGroup', async (_payload, delivered) => {
      const active = trace.getActiveSpan()?.spanContext();
      if (active) seen.push({ traceId: active.traceId, spanId: active.spanId, headers: { ...delivered?.headers } });
    });
    const request = tracing.tracer.startSpan('request', { kind: SpanKind.SERVER });
    await context.with(trace.setSpan(context.active(), request), () =>
      bus.publish([{ destination: 'things', payload: { n: 1 } }]),
    );
    request.end();
    await eventually(() => seen.length > 0, { what: 'the consumer to run' });
    await inner.close();
    const traceId = request.spanContext().traceId;
    assert.equal(seen[0]?.traceId, traceId);
    assert.match(
      seen[0]?.headers['traceparent'] ?? '',
      new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`),
      'the context travels in the message headers',
    );
    const spans = processSpanStore().trace(traceId) ?? [];
    const producer = spans.find((s) => s.kind === 'PRODUCER');
    const consumer = spans.find((s) => s.kind === 'CONSUMER');
    assert.equal(producer?.name, 'send things');
    assert.equal(consumer?.parentSpanId, producer?.spanId);
    assert.equal(consumer?.attributes['messaging.consumer.group.name'], 'thingsGroup');
  });
});

describe('OTLP export', () => {
  it("when OTEL_EXPORTER_OTLP_ENDPOINT is set, then finished spans reach that collector over OTLP/HTTP with the service's name", async () => {
    const bodies: Array<{ path: string; body: string }> = [];
    const collector = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      request.on('end', () => {
        bodies.push({ path: request.url ?? '', body });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((done) => collector.listen(0, '127.0.0.1', done));
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    // The exporter reads the standard variables from the process's environment.
    const saved = process.env['OTEL_EXPORTER_OTLP_ENDPOINT'];
    process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] = endpoint;
    try {
      const tracing = createTracing('exported', config(), process.env);
      const span = tracing.tracer.startSpan('GET /thing');
      span.end();
      await tracing.shutdown();
      const traceId = span.spanContext().traceId;
      assert.equal(bodies[0]?.path, '/v1/traces');
      const sent = JSON.parse(bodies[0]?.body ?? '{}');
      const resource = sent.resourceSpans[0];
      assert.deepEqual(resource.resource.attributes.find((a: { key: string }) => a.key === 'service.name').value, {
        stringValue: 'exported',
      });
      assert.equal(resource.scopeSpans[0].spans[0].traceId, traceId);
      assert.equal(resource.scopeSpans[0].spans[0].name, 'GET /thing');
    } finally {
      if (saved === undefined) delete process.env['OTEL_EXPORTER_OTLP_ENDPOINT'];
      else process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] = saved;
      collector.close();
    }
  });
});
