import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
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
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
];

export const HSTS = 'max-age=31536000; includeSubDomains';

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
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  // Each backend's URL parsed once, not on every request.
  const targets = new Map(
    Object.entries(settings.backends).map(([service, base]) => {
      const url = new URL(base);
      return [
        service,
        { protocol: url.protocol, hostname: url.hostname, port: url.port, prefix: url.pathname.replace(/\/+$/, '') },
      ];
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

    const headers: http.OutgoingHttpHeaders = { ...request.headers };
    for (const name of HOP_BY_HOP) delete headers[name];
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
    if (request.headers['transfer-encoding']) headers['transfer-encoding'] = 'chunked';

    // Always the configured backend; from the client only the path and query.
    let upstream: http.ClientRequest;
    try {
      upstream = http.request({
        protocol: backend.protocol,
        hostname: backend.hostname,
        port: backend.port,
        path: `${backend.prefix}${target.path}${target.search}`,
        method: request.method,
        headers,
        agent,
        timeout: settings.connectTimeoutMs,
      });
    } catch (error) {
      // Node checks the method, path and header values it sends; what fails there came from the client.
      settings.logger.info({ err: error, path: target.path }, 'request cannot be forwarded');
      request.resume();
      return fail(response, 400, target.path, 'Request cannot be forwarded', requestId);
    }
    let answered = false;
    const responseTimer = setTimeout(() => {
      if (answered) return;
      answered = true;
      upstream.destroy();
      fail(
        response,
        504,
        target.path,
        `${route.service} did not answer within ${settings.responseTimeoutMs} ms`,
        requestId,
      );
    }, settings.responseTimeoutMs);

    upstream.on('socket', (socket) => {
      // The socket timeout guards the connect; once connected the response timer takes over.
      // A kept-alive socket is connected already and would never emit 'connect'.
      if (socket.connecting) socket.once('connect', () => upstream.setTimeout(0));
      else upstream.setTimeout(0);
    });
    upstream.on('timeout', () => upstream.destroy(new Error('connect timeout')));
    upstream.on('response', (answer) => {
      clearTimeout(responseTimer);
      if (answered) return answer.resume();
      answered = true;
      const out: http.OutgoingHttpHeaders = { ...answer.headers };
      for (const name of HOP_BY_HOP) delete out[name];
      out['strict-transport-security'] = HSTS;
      settings.beforeAnswer?.(response);
      response.writeHead(answer.statusCode ?? 502, out);
      answer.pipe(response);
      answer.on('error', () => response.destroy());
    });
    upstream.on('error', (error) => {
      clearTimeout(responseTimer);
      if (answered) return response.destroy();
      answered = true;
      settings.logger.warn({ err: error, service: route.service, path: target.path }, 'backend unavailable');
      fail(response, 502, target.path, `${route.service} is unavailable`, requestId);
    });

    // Stream the body through, counting, so a body without a length is limited too.
    let received = 0;
    request.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > settings.bodyLimitBytes && !answered) {
        answered = true;
        clearTimeout(responseTimer);
        upstream.destroy();
        request.unpipe(upstream);
        request.resume();
        fail(response, 413, target.path, `Request body larger than ${settings.bodyLimitBytes} bytes`, requestId);
      }
    });
    request.pipe(upstream);
    response.on('close', () => {
      clearTimeout(responseTimer);
      if (!response.writableFinished) upstream.destroy();
    });
  };

  return { handler, close: () => agent.destroy() };
}
