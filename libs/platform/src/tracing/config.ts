import { Type, type Static } from '@landscape/vendor/typebox';

/** The `tracing` section of every service's and the edge's configuration. */
export const tracingConfigSchema = Type.Object(
  {
    /** Spans for every request and event, W3C trace context on every hop. OTEL_SDK_DISABLED=true turns it off whatever this says. */
    enabled: Type.Boolean({ default: false }),
    /** Share of new traces recorded; a request that arrives with a sampled parent follows its parent. OTEL_TRACES_SAMPLER overrides it. */
    sampleRatio: Type.Number({ minimum: 0, maximum: 1, default: 1 }),
    /** The in-memory store of recent traces the trace page reads; the oldest trace goes first. 0 keeps none. */
    store: Type.Object(
      {
        maxTraces: Type.Integer({ minimum: 0, maximum: 10000, default: 200 }),
        maxSpansPerTrace: Type.Integer({ minimum: 1, maximum: 10000, default: 500 }),
      },
      { default: {} },
    ),
  },
  { default: {} },
);

export type TracingConfig = Static<typeof tracingConfigSchema>;
