import { randomUUID } from 'node:crypto';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
} from 'fastify';
import type { Logger } from 'pino';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { drainable } from './drain.ts';
import { errorBody, HttpError } from './errors.ts';
import { answerClientError, refuseTunnels } from './raw-http.ts';
import type { Health, HealthReport } from './health.ts';
import { instrumentHttpServer, type Metrics } from './metrics/index.ts';
import { traceFastify } from './tracing/http.ts';
import type { Tracing } from './tracing/tracing.ts';

/** A service passes its ServiceDeps as they are (`{ ...deps, info }`); what else they hold is ignored. */
export interface HttpAppOptions {
  logger: Logger;
  health: Health;
  info: Record<string, unknown>;
  bodyLimit?: number;
  /** The service's instruments: its requests are recorded and /actuator/prometheus serves them. */
  metrics?: Metrics;
  /** Spans for every request; untraced without it. */
  tracing?: Tracing;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * A fastify instance with what every service shares: request ids, the contract's error shape for
 * every failure (never a stack trace), and the actuator endpoints. It never listens by itself.
 */
export function createHttpApp(options: HttpAppOptions): FastifyInstance {
  const app = Fastify({
    // fastify's logger type is narrower than pino's; the instance is the same.
    loggerInstance: options.logger as unknown as FastifyBaseLogger,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    requestIdHeader: false,
    // The edge writes the one access line per request; a service's own request line is at debug (below).
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    forceCloseConnections: 'idle',
    // Room for an oversized bearer token to reach the verifier and get a proper 401 instead of a bare 431.
    http: { maxHeaderSize: 32 * 1024 },
    return503OnClosing: true,
    // The router's and the parser's own refusals (a bad percent-encoding, a malformed header) in the contract's shape too.
    frameworkErrors: (error, request, reply) => {
      const status =
        typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500
          ? error.statusCode
          : 400;
      void (reply as FastifyReply)
        .status(status)
        .send(errorBody(status, request.url, status === 400 ? 'Malformed request target' : error.message, request.id));
    },
    clientErrorHandler: (error, socket) => answerClientError(error, socket),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // Bodies are validated as they are: no type coercion, no silently dropped fields.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });

  if (options.tracing) traceFastify(app, options.tracing);
  // Hooks on every request take fastify's callback form: an async one costs a promise per request.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  // One line per request, at debug: at info every hop of every request would write a line of its own.
  if (options.logger.isLevelEnabled('debug')) {
    app.addHook('onResponse', (request, reply, done) => {
      request.log.debug(
        {
          method: request.method,
          url: request.url,
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 10) / 10,
        },
        'request',
      );
      done();
    });
  }
  refuseTunnels(app.server);

  // A response finished while the server closes ends its connection, so close() does not wait for the
  // keep-alive timeout of a connection that was busy when shutdown began.
  // Idle keep-alive connections end only after a short quiet spell, so a request already on its way
  // over one is answered instead of meeting a reset.
  const drain = drainable(app.server, { tls: false, graceMs: 250 });
  app.addHook('preClose', async () => {
    drain.begin();
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    drain.closeIfDraining(reply.raw);
    done(null, payload);
  });

  app.setErrorHandler((error: FastifyError | HttpError, request, reply) => {
    const { status, message } = describe(error);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    if (error instanceof HttpError) void reply.headers(error.headers);
    void reply.status(status).send(errorBody(status, request.url, message, request.id));
  });

  app.setNotFoundHandler((request, reply) => {
    void reply
      .status(404)
      .send(errorBody(404, request.url, `No route for ${request.method} ${request.url.split('?')[0]}`, request.id));
  });

  const sendHealth = (reply: { status(code: number): { send(body: unknown): unknown } }, report: HealthReport) =>
    reply.status(report.status === 'UP' ? 200 : 503).send(report);

  app.get('/actuator/health', async (_request, reply) => sendHealth(reply, await options.health.overall()));
  app.get('/actuator/health/liveness', async (_request, reply) => sendHealth(reply, options.health.liveness()));
  app.get('/actuator/health/readiness', async (_request, reply) => sendHealth(reply, await options.health.readiness()));
  app.get('/actuator/info', async () => options.info);
  if (options.metrics) instrumentHttpServer(app, options.metrics);

  return app;
}

/** The same app, with request params, query and body typed from the route's TypeBox schemas. */
export const typedRoutes = (app: FastifyInstance) => app.withTypeProvider<TypeBoxTypeProvider>();

/** Maps any error to the status and message a client may see. */
function describe(error: FastifyError | HttpError): { status: number; message: string } {
  if (error instanceof HttpError) return { status: error.status, message: error.message };
  if (error.validation) {
    const first = error.validation[0];
    const where = `${error.validationContext ?? 'request'}${first?.instancePath?.replace(/\//g, '.') ?? ''}`;
    // A path or query parameter of the wrong form (not digits, given twice) is Spring's type mismatch.
    if (
      (error.validationContext === 'params' || error.validationContext === 'querystring') &&
      (first?.keyword === 'type' || first?.keyword === 'pattern')
    ) {
      return { status: 400, message: 'Type mismatch.' };
    }
    const params = first?.params as { missingProperty?: string; additionalProperty?: string } | undefined;
    if (params?.missingProperty !== undefined)
      return { status: 400, message: `Invalid ${where}.${params.missingProperty}: is required` };
    if (params?.additionalProperty !== undefined)
      return { status: 400, message: `Invalid ${where}.${params.additionalProperty}: unknown field` };
    return { status: 400, message: `Invalid ${where}: ${first?.message ?? 'invalid value'}` };
  }
  const status =
    typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
  if (status === 500) return { status, message: 'Internal Server Error' };
  if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError)
    return { status: 400, message: 'Malformed JSON body' };
  return { status, message: error.message };
}
