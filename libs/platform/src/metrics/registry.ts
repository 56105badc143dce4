import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from '@landscape/vendor/prom-client';
import { Type, type Static } from '@landscape/vendor/typebox';

export const metricsConfigSchema = Type.Object(
  {
    /** Serves /actuator/prometheus and records the HTTP server's requests; off, the path answers 404. */
    enabled: Type.Boolean({ default: true }),
  },
  { default: {} },
);
export type MetricsConfig = Static<typeof metricsConfigSchema>;

/** The Prometheus text exposition format the original system's stack scraped. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Seconds: a millisecond health check up to the 2 s call timeout and the 10 s ones of the fault tests. */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type Labels<L extends string> = readonly L[];

/**
 * One service's instruments. Each service has a registry of its own, so the all-in-one process,
 * which runs them all, still shows each one only its own series; the Node runtime's series belong
 * to the process and are added to every exposition.
 */
export class Metrics {
  readonly enabled: boolean;
  readonly registry = new Registry();

  constructor(config: MetricsConfig) {
    this.enabled = config.enabled;
  }

  counter<L extends string>(name: string, help: string, labelNames: Labels<L>): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  histogram<L extends string>(
    name: string,
    help: string,
    labelNames: Labels<L>,
    buckets = DURATION_BUCKETS,
  ): Histogram<L> {
    return new Histogram({ name, help, labelNames, buckets, registers: [this.registry] });
  }

  /** A gauge whose value is read when scraped, from the object that knows it. */
  gauge<L extends string>(
    name: string,
    help: string,
    labelNames: Labels<L>,
    collect?: (gauge: Gauge<L>) => void,
  ): Gauge<L> {
    return new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      ...(collect
        ? {
            collect(this: Gauge<L>) {
              collect(this);
            },
          }
        : {}),
    });
  }

  /** The text a scrape gets: this service's series, then the process's runtime series. */
  async exposition(): Promise<string> {
    return `${await this.registry.metrics()}\n${await runtimeRegistry().metrics()}`;
  }
}

let runtime: Registry | undefined;

/** Event loop delay, heap, GC, CPU and file descriptors: measured once per process, however many services it runs. */
function runtimeRegistry(): Registry {
  if (!runtime) {
    runtime = new Registry();
    collectDefaultMetrics({ register: runtime, eventLoopMonitoringPrecision: 10 });
  }
  return runtime;
}

/** Label values that stay few: a known HTTP method, or `_OTHER` as OpenTelemetry names the rest. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'CONNECT']);
export function methodLabel(method: string | undefined): string {
  return method !== undefined && METHODS.has(method) ? method : '_OTHER';
}
