export {
  Metrics,
  metricsConfigSchema,
  methodLabel,
  PROMETHEUS_CONTENT_TYPE,
  DURATION_BUCKETS,
  type MetricsConfig,
} from './registry.ts';
export {
  httpServerDuration,
  instrumentHttpServer,
  recordServerRequest,
  PROMETHEUS_PATH,
  UNMATCHED_ROUTE,
  type HttpServerDuration,
} from './http-server.ts';
export { consumerMetrics } from './messaging.ts';
export { databasePoolMetrics } from './database.ts';
export { httpClientMetrics, type ClientCallRecord, type ClientCallRecorder } from './http-client.ts';
