import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import {
  errorBody,
  PROMETHEUS_CONTENT_TYPE,
  PROMETHEUS_PATH,
  traceRoutes,
  type Health,
  type HealthReport,
  type Metrics,
  type SpanStore,
} from '@landscape/platform/core';

export interface Management {
  port: number;
  close(): Promise<void>;
}

const send = (
  response: ServerResponse,
  status: number,
  body: unknown,
  contentType = 'application/json; charset=utf-8',
) => {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  response.end(text);
};

/**
 * The edge's actuator on a port of its own: on the HTTPS port /actuator/health is the composite's,
 * as the Ingress routes it. Same paths and shapes as every service's actuator, /actuator/prometheus included.
 * With a span store it serves the trace pages and an OTLP/HTTP receiver into that store too (see traceRoutes).
 */
export async function startManagement(
  settings: { host: string; port: number },
  health: Health,
  logger: Logger,
  metrics?: Metrics,
  spans?: SpanStore,
): Promise<Management> {
  const traces = spans && traceRoutes(spans);
  const healthReport = (report: () => HealthReport | Promise<HealthReport>) => async () => {
    const result = await report();
    return { status: result.status === 'UP' ? 200 : 503, body: result as unknown };
  };
  const reports: Record<string, () => Promise<{ status: number; body: unknown; contentType?: string }>> = {
    '/actuator/health': healthReport(() => health.overall()),
    '/actuator/health/liveness': healthReport(() => health.liveness()),
    '/actuator/health/readiness': healthReport(() => health.readiness()),
    ...(metrics?.enabled
      ? {
          [PROMETHEUS_PATH]: async () => ({
            status: 200,
            body: await metrics.exposition(),
            contentType: PROMETHEUS_CONTENT_TYPE,
          }),
        }
      : {}),
  };

  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]?.replace(/(.)\/+$/, '$1') ?? '/';
    if (traces?.(request, response, path)) return;
    const report = reports[path];
    if (!report) return send(response, 404, errorBody(404, path, `No route for ${request.method} ${path}`));
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      return send(response, 405, errorBody(405, path, `Method ${request.method} not allowed`));
    }
    Promise.resolve()
      .then(report)
      .then((result) => send(response, result.status, result.body, result.contentType))
      .catch((error: unknown) => {
        logger.error({ err: error, path }, 'actuator report failed');
        send(response, 500, errorBody(500, path, 'Internal Server Error'));
      });
  });

  const port = await new Promise<number>((resolvePort, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => resolvePort((server.address() as AddressInfo).port));
  });
  logger.info({ managementPort: port, host: settings.host }, 'edge actuator listening');

  return {
    port,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeIdleConnections();
      }),
  };
}
