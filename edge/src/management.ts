import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { errorBody, type Health, type HealthReport, type SpanStore, traceRoutes } from '@landscape/platform';

export interface Management {
  port: number;
  close(): Promise<void>;
}

const send = (response: ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
};

/**
 * The edge's actuator on a port of its own: on the HTTPS port /actuator/health is the composite's,
 * as the Ingress routes it. Same paths and shapes as every service's actuator. With a span store it
 * serves the trace pages and an OTLP/HTTP receiver into that store too (see traceRoutes).
 */
export async function startManagement(settings: { host: string; port: number }, health: Health, logger: Logger, spans?: SpanStore): Promise<Management> {
  const traces = spans && traceRoutes(spans);
  const reports: Record<string, () => HealthReport | Promise<HealthReport>> = {
    '/actuator/health': () => health.overall(),
    '/actuator/health/liveness': () => health.liveness(),
    '/actuator/health/readiness': () => health.readiness(),
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
      .then((result) => send(response, result.status === 'UP' ? 200 : 503, result))
      .catch((error: unknown) => {
        logger.error({ err: error, path }, 'health report failed');
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
    close: () => new Promise<void>((done) => {
      server.close(() => done());
      server.closeIdleConnections();
    }),
  };
}
