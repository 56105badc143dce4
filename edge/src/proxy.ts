import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import { Agent, type Dispatcher } from '@landscape/vendor/undici';
import type { Logger } from 'pino';
import {
  errorBody,
  injectTraceContext,
  nameRequestSpan,
  recordServerRequest,
  traceFields,
  type HttpServerDuration,
} from '@landscape/platform/core';
import { matchRoute, type Route } from './routes.ts';

export interface ProxySettings {
  routes: readonly Route[];
  /** Ingress backend service name → local base URL (a Kubernetes Service's DNS name in a cluster). */
  backends: Readonly<Record<string, string>>;
  bodyLimitBytes: number;
  connectTimeoutMs: number;
  responseTimeoutMs: number;
  httpsPort: number;
  logger: Logger;
  /** Called just before any answer is written (to add `Connection: close` while shutting down). */
  beforeAnswer?: (response: ServerResponse) => void;
  /** Where each request's duration is recorded, under the Ingress path that routed it. */
  duration?: HttpServerDuration;
}

/** The status of a request whose client went away before any answer, as nginx logs it. */
const CLIENT_CLOSED = 499;

// Hop-by-hop headers belong to one connection and are never forwarded (RFC 9110, 7.6.1).
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export const HSTS = 'max-age=31536000; includeSubDomains';

/** Header fields as node:http's server and undici's handlers give them: lower-case names. */
type HeaderFields = Record<string, string | string[] | undefined>;

/**
 * A message's headers as the next hop gets them, either way: without hop-by-hop ones, those its
 * Connection header names, and any of `alsoDropped`.
 */
function endToEndHeaders(given: Readonly<HeaderFields>, alsoDropped?: string): HeaderFields {
  const connection = given['connection'];
  const named = connection
    ? String(connection)
        .toLowerCase()
        .split(',')
        .map((token) => token.trim())
    : undefined;
  const headers: HeaderFields = {};
  for (const name in given) {
    if (HOP_BY_HOP.has(name) || name === alsoDropped || named?.includes(name)) continue;
    headers[name] = given[name];
  }
  return headers;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** The caller's X-Request-Id when it is a sane one, as the services accept it; otherwise a new one. */
export function requestIdOf(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

function sendError(response: ServerResponse, status: number, path: string, message: string, requestId: string): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const body = JSON.stringify(errorBody(status, path, message, requestId));
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'strict-transport-security': HSTS,
    'x-request-id': requestId,
  });
  response.end(body);
}

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The trace id of a W3C `traceparent` header, when the request carries a well-formed one. */
export function traceIdOf(request: IncomingMessage): string | undefined {
  const given = request.headers['traceparent'];
  return typeof given === 'string' ? TRACEPARENT.exec(given)?.[1] : undefined;
}

/**
 * The access log: one line per request, written when its answer is complete (or the client left),
 * with what an operator looks up a request by. The services log theirs at debug only.
 */
function logAccess(
  logger: Logger,
  request: IncomingMessage,
  response: ServerResponse,
  path: string,
  requestId: string,
): void {
  const started = performance.now();
  // Read now, inside the request's span: 'close' fires outside it. With tracing on that is the edge's own
  // trace (the caller's, or a new one); with it off, the trace id a well-formed traceparent names.
  const traceId = traceFields().trace_id ?? traceIdOf(request);
  response.once('close', () => {
    const line: Record<string, unknown> = {
      method: request.method,
      path,
      status: response.statusCode,
      ms: Math.round((performance.now() - started) * 10) / 10,
      requestId,
    };
    if (traceId) line['traceId'] = traceId;
    if (!response.writableFinished) line['aborted'] = true;
    logger.info(line, 'access');
  });
}

const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;
// A path of unreserved characters and slashes without dots, and a query URL parsing leaves as it is.
const PLAIN_TARGET = /^(\/[A-Za-z0-9_~/-]*)(\?[A-Za-z0-9_~.=&%+,:@/-]*)?$/;

/**
 * The path and query of an origin-form target (RFC 9112, 3.2.1), normalised as the backend will see it,
 * or the reason it is refused. Any other form names a host, and the edge only ever talks to its own
 * backends. A backslash is refused too: URL parsers treat `/\\host` like `//host`.
 */
export function originFormTarget(target: string): { path: string; search: string } | { refused: string } {
  const refused = 'Request target must be origin-form: a path starting with a single /';
  if (!target.startsWith('/') || target.startsWith('//') || target.includes('\\')) return { refused };
  if (BAD_PERCENT.test(target)) return { refused: 'Malformed percent-encoding in the request target' };
  // The common target is already in the form URL parsing would give it: no dot segments, nothing to encode.
  const plain = PLAIN_TARGET.exec(target);
  if (plain) return { path: plain[1]!, search: plain[2] === undefined || plain[2] === '?' ? '' : plain[2] };
  let url: URL;
  try {
    url = new URL(target, 'http://edge.invalid');
  } catch {
    return { refused };
  }
  if (url.host !== 'edge.invalid') return { refused };
  return { path: url.pathname, search: url.search };
}

/** The HTTPS side: route by the Ingress paths, forward with X-Forwarded-*, answer failures in the contract's shape. */
export function createProxyHandler(settings: ProxySettings) {
  // Undici's pool rather than node:http's client: no request and response streams per hop.
  const agent = new Agent({
    connections: 256,
    connect: { timeout: settings.connectTimeoutMs },
    // The response timer below limits the wait for an answer's head, with the contract's message.
    headersTimeout: 0,
  });
  // Each backend's URL parsed once, not on every request.
  const targets = new Map(
    Object.entries(settings.backends).map(([service, base]) => {
      const url = new URL(base);
      return [service, { origin: url.origin, prefix: url.pathname.replace(/\/+$/, '') }];
    }),
  );
  const fail: typeof sendError = (response, ...rest) => {
    settings.beforeAnswer?.(response);
    sendError(response, ...rest);
  };

  const handler = (request: IncomingMessage, response: ServerResponse) => {
    let routed: string | undefined;
    const { duration } = settings;
    if (duration) {
      const startedAt = performance.now();
      response.once('close', () =>
        recordServerRequest(
          duration,
          request.method,
          routed,
          response.headersSent ? response.statusCode : CLIENT_CLOSED,
          (performance.now() - startedAt) / 1000,
        ),
      );
    }
    const requestId = requestIdOf(request);
    const target = originFormTarget(request.url ?? '');
    logAccess(
      settings.logger,
      request,
      response,
      'refused' in target ? (request.url ?? '').slice(0, 200) : target.path,
      requestId,
    );
    if ('refused' in target) return fail(response, 400, (request.url ?? '').slice(0, 200), target.refused, requestId);
    const route = matchRoute(settings.routes, target.path);
    if (!route) return fail(response, 404, target.path, `No route for ${target.path}`, requestId);
    routed = route.path;
    nameRequestSpan(request.method, route.path);
    const backend = targets.get(route.service);
    if (!backend)
      return fail(response, 502, target.path, `No backend configured for service ${route.service}`, requestId);

    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > settings.bodyLimitBytes) {
      request.resume();
      return fail(response, 413, target.path, `Request body larger than ${settings.bodyLimitBytes} bytes`, requestId);
    }

    // Expect is not forwarded: the edge's own server has answered 100-continue already.
    const headers: IncomingHttpHeaders = endToEndHeaders(request.headers, 'expect');
    // On a dual-stack socket an IPv4 client appears as ::ffff:a.b.c.d; backends expect a.b.c.d.
    const client = (request.socket.remoteAddress ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
    const forwardedFor = request.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = forwardedFor ? `${forwardedFor}, ${client}` : client;
    headers['x-forwarded-proto'] = 'https';
    headers['x-forwarded-host'] = request.headers.host ?? '';
    headers['x-forwarded-port'] = String(settings.httpsPort);
    headers['x-request-id'] = requestId;
    // The edge's span is the backend's parent (a caller's own traceparent is replaced by it).
    injectTraceContext(headers);

    // Always the configured backend; from the client only the path and query. A request that
    // declares no body sends none; one that does is passed on as it arrives, counted.
    const hasBody = request.headers['transfer-encoding'] !== undefined || declared > 0;
    const body = hasBody ? new PassThrough() : null;
    let controller: Dispatcher.DispatchController | undefined;
    // Set once the edge wants nothing more from the backend: it answered itself, or the client left.
    let abandoned = false;
    const abandon = () => {
      abandoned = true;
      clearTimeout(responseTimer);
      controller?.abort(new Error('abandoned'));
      if (!body) return;
      // What the client still sends is read and dropped, so its answer reaches it.
      request.unpipe(body);
      body.destroy();
      request.resume();
    };
    let answered = false;
    const failOnce = (status: number, message: string) => {
      if (answered) return;
      answered = true;
      fail(response, status, target.path, message, requestId);
      abandon();
    };
    const responseTimer = setTimeout(
      () => failOnce(504, `${route.service} did not answer within ${settings.responseTimeoutMs} ms`),
      settings.responseTimeoutMs,
    );
    response.on('close', () => {
      if (!response.writableFinished) abandon();
    });

    agent.dispatch(
      {
        origin: backend.origin,
        path: `${backend.prefix}${target.path}${target.search}`,
        method: request.method ?? 'GET',
        headers,
        body,
      },
      {
        onRequestStart(started) {
          controller = started;
          if (abandoned) started.abort(new Error('abandoned'));
        },
        onResponseStart(_controller, status, answerHeaders) {
          clearTimeout(responseTimer);
          if (answered) return;
          answered = true;
          const out: http.OutgoingHttpHeaders = endToEndHeaders(answerHeaders);
          out['strict-transport-security'] = HSTS;
          settings.beforeAnswer?.(response);
          response.writeHead(status, out);
        },
        onResponseData(paused, chunk) {
          if (response.write(chunk)) return;
          paused.pause();
          response.once('drain', () => paused.resume());
        },
        onResponseEnd() {
          response.end();
        },
        onResponseError(_controller, error) {
          // A body cut short after its head went out can only end the client's connection too.
          if (answered || abandoned) {
            if (!response.writableEnded) response.destroy();
            return;
          }
          // Undici checks the method and header values it sends; what fails there came from the client.
          const code = (error as { code?: string }).code;
          if (controller === undefined && (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_NOT_SUPPORTED')) {
            settings.logger.info({ err: error, path: target.path }, 'request cannot be forwarded');
            return failOnce(400, 'Request cannot be forwarded');
          }
          settings.logger.warn({ err: error, service: route.service, path: target.path }, 'backend unavailable');
          failOnce(502, `${route.service} is unavailable`);
        },
      },
    );

    if (!body || abandoned) {
      request.resume();
      return;
    }
    // Counted on the way through, so a body without a length is limited too.
    let received = 0;
    request.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received <= settings.bodyLimitBytes || answered) return;
      failOnce(413, `Request body larger than ${settings.bodyLimitBytes} bytes`);
    });
    request.pipe(body);
  };

  return { handler, close: () => agent.destroy() };
}
