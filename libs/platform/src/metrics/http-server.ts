import type { FastifyInstance } from 'fastify';
import { HttpError } from '../errors.ts';
import { methodLabel, PROMETHEUS_CONTENT_TYPE, type Metrics } from './registry.ts';

export const PROMETHEUS_PATH = '/actuator/prometheus';

/** The route label of a request no route matched: a fixed value, so scanners cannot add series. */
export const UNMATCHED_ROUTE = 'unmatched';

export type HttpServerDuration = ReturnType<typeof httpServerDuration>;

/** The services' and the edge's request histogram, in OpenTelemetry's names. */
export function httpServerDuration(metrics: Metrics) {
  return metrics.histogram(
    'http_server_request_duration_seconds',
    'Duration of HTTP server requests, by method, route template and response status',
    ['http_request_method', 'http_route', 'http_response_status_code'],
  );
}

export function recordServerRequest(
  duration: HttpServerDuration,
  method: string | undefined,
  route: string | undefined,
  status: number,
  seconds: number,
): void {
  duration.observe(
    {
      http_request_method: methodLabel(method),
      http_route: route ?? UNMATCHED_ROUTE,
      http_response_status_code: String(status),
    },
    seconds,
  );
}

/**
 * Every answered request into the histogram under its route template (`/product/:productId`, never
 * the raw URL), and the exposition at /actuator/prometheus. Nothing at all when metrics are off.
 */
export function instrumentHttpServer(app: FastifyInstance, metrics: Metrics): void {
  if (!metrics.enabled) return;
  const duration = httpServerDuration(metrics);
  app.addHook('onResponse', async (request, reply) => {
    recordServerRequest(duration, request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
  });
  app.get(PROMETHEUS_PATH, { schema: { hide: true } }, async (_request, reply) =>
    reply.header('content-type', PROMETHEUS_CONTENT_TYPE).send(await metrics.exposition()),
  );
  app.route({
    method: ['POST', 'PUT', 'PATCH', 'DELETE'],
    url: PROMETHEUS_PATH,
    schema: { hide: true },
    handler: async (request) => {
      throw new HttpError(405, `Method ${request.method} not allowed`, { allow: 'GET, HEAD' });
    },
  });
}
