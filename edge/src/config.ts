import { resolve } from 'node:path';
import { Type, type Static } from '@landscape/vendor/typebox';
import { loggingConfigSchema, metricsConfigSchema, tracingConfigSchema } from '@landscape/platform/core';

export const repositoryRoot = resolve(import.meta.dirname, '../..');

export const edgeConfigSchema = Type.Object({
  logging: loggingConfigSchema,
  /** The proxied requests' durations, served on the management port's /actuator/prometheus. */
  metrics: metricsConfigSchema,
  /** The edge's SERVER span starts each request's trace (or continues the caller's traceparent). */
  tracing: tracingConfigSchema,
  edge: Type.Object({
    /** The public ports are the way in: every interface, IPv4 and IPv6 (dual-stack). */
    host: Type.String({ default: '::' }),
    httpsPort: Type.Integer({ minimum: 0, maximum: 65535, default: 8443 }),
    httpPort: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
    /** The Ingress manifest the routes are read from, relative to the repository. */
    ingressFile: Type.String({ default: 'kubernetes/base/ingress.yaml' }),
    /** Ingress backend service name → where that service listens here. */
    backends: Type.Record(Type.String(), Type.String()),
    dataDir: Type.String({ default: 'data/edge' }),
    /** Names the development certificate covers. */
    certificateNames: Type.Array(Type.String(), { default: ['localhost', '127.0.0.1', 'minikube.me'] }),
    /** Names the ACME certificate covers (EDGE_DOMAINS); needs acme.directoryUrl. */
    domains: Type.Array(Type.String(), { default: [] }),
    /** The edge's own actuator, kept off the HTTPS port whose /actuator/health belongs to the composite. */
    managementHost: Type.String({ default: '127.0.0.1' }),
    managementPort: Type.Integer({ minimum: 0, maximum: 65535, default: 8081 }),
    bodyLimitBytes: Type.Integer({ minimum: 1, default: 1024 * 1024 }),
    connectTimeoutMs: Type.Integer({ minimum: 1, default: 5000 }),
    responseTimeoutMs: Type.Integer({ minimum: 1, default: 60000 }),
    /** A client that has not sent its whole request head by then is cut with a 408 (slow-header clients). */
    headersTimeoutMs: Type.Integer({ minimum: 100, default: 20000 }),
  }),
  /** Certificates from an ACME CA over http-01, as cert-manager does in a cluster; off while directoryUrl is empty. */
  acme: Type.Object(
    {
      /** `letsencrypt-staging`, `letsencrypt-production`, or the https URL of any ACME directory. */
      directoryUrl: Type.String({ default: '' }),
      email: Type.String({ default: '' }),
      /** A PEM file of extra CAs to trust for the ACME server's own TLS (Pebble's, say). */
      caFile: Type.String({ default: '' }),
      /** First delay after a failed order; it doubles on every further failure up to retryMaxDelayMs. */
      retryInitialDelayMs: Type.Integer({ minimum: 1, default: 5 * 60 * 1000 }),
      retryMaxDelayMs: Type.Integer({ minimum: 1, default: 6 * 3600 * 1000 }),
      /** First delay while polling the CA for a challenge or order to complete. */
      pollIntervalMs: Type.Integer({ minimum: 1, default: 5000 }),
    },
    { default: {} },
  ),
});
export type EdgeConfig = Static<typeof edgeConfigSchema>;
