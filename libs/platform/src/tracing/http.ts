import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
} from '@landscape/vendor/@opentelemetry/api';
import type { FastifyInstance } from 'fastify';
import { markFailed, type Tracing } from './tracing.ts';

type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

const requestContexts = new WeakMap<IncomingMessage, Context>();

/** The port a Host header names, or the scheme's default. */
function portOf(host: string, scheme: 'http' | 'https'): number {
  const match = /:(\d+)$/.exec(host);
  return match ? Number(match[1]) : scheme === 'https' ? 443 : 80;
}

/**
 * A SERVER span around every request the listener handles, child of the caller's W3C traceparent when it
 * sends a valid one (a malformed one is ignored: the request starts a new trace). The listener runs in
 * the span's context; the span ends when the response is done, with the stable HTTP conventions'
 * attributes and ERROR for a 5xx.
 */
export function tracedListener(tracing: Tracing, scheme: 'http' | 'https', listener: RequestListener): RequestListener {
  if (!tracing.enabled) return listener;
  return (request, response) => {
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const method = request.method ?? 'GET';
    const host = request.headers.host ?? '';
    const target = request.url ?? '/';
    const query = target.indexOf('?');
    const span = tracing.tracer.startSpan(
      method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': method,
          'url.path': query < 0 ? target : target.slice(0, query),
          'url.scheme': scheme,
          'server.address': host.replace(/:\d+$/, ''),
          'server.port': portOf(host, scheme),
          'network.protocol.version': request.httpVersion,
          ...(request.headers['user-agent'] ? { 'user_agent.original': request.headers['user-agent'] } : {}),
          ...(request.socket.remoteAddress ? { 'client.address': request.socket.remoteAddress } : {}),
        },
      },
      parent,
    );
    const active = trace.setSpan(parent, span);
    requestContexts.set(request, active);
    response.once('close', () => endServerSpan(span, response));
    context.with(active, listener, undefined, request, response);
  };
}

function endServerSpan(span: Span, response: ServerResponse): void {
  const status = response.statusCode;
  span.setAttribute('http.response.status_code', status);
  if (status >= 500) {
    span.setAttribute('error.type', String(status));
    span.setStatus({ code: SpanStatusCode.ERROR });
  } else if (!response.writableFinished) {
    // The connection went before the answer was complete.
    span.setAttribute('error.type', 'aborted');
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'response not completed' });
  }
  span.end();
}

/** Names the request's span after the route that matched (`GET /product/:productId`), as the conventions ask. */
export function nameRequestSpan(method: string | undefined, route: string): void {
  const span = trace.getActiveSpan();
  if (!span) return;
  span.updateName(`${method ?? 'GET'} ${route}`);
  span.setAttribute('http.route', route);
}

/**
 * Traces a fastify app: its server's request listener gets a SERVER span, and the hooks that run after
 * the body was read (in the stream's context, not the request's) and the response's last hooks and log
 * line are put back into the request's context, so every log line of the request carries its ids.
 */
export function traceFastify(app: FastifyInstance, tracing: Tracing): void {
  if (!tracing.enabled) return;
  const server: Server = app.server;
  const listeners = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  for (const listener of listeners) server.on('request', tracedListener(tracing, 'http', listener));
  const resume = (request: { raw: IncomingMessage }, done: () => void) => {
    const active = requestContexts.get(request.raw);
    if (active) context.with(active, done);
    else done();
  };
  app.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions.url;
    if (route !== undefined) nameRequestSpan(request.method, route);
    done();
  });
  app.addHook('preValidation', (request, _reply, done) => resume(request, done));
  app.addHook('onResponse', (request, _reply, done) => resume(request, done));
}

export interface ClientCall {
  /** Headers to send: the call's W3C traceparent (and tracestate). */
  headers: Record<string, string>;
  /** The answer's status; a later end or fail is ignored. */
  end(status: number): void;
  /** No answer (unreachable, timed out); ignored after end. */
  fail(error: unknown): void;
}

const untraced: ClientCall = { headers: {}, end: () => {}, fail: () => {} };

/**
 * A CLIENT span for one outgoing HTTP call, child of the active span. `template` is the URL's pattern
 * (`/product/{productId}`) that names the span without its variable parts.
 */
export function startClientCall(
  tracing: Tracing,
  method: string,
  server: URL,
  href: string,
  template: string,
): ClientCall {
  if (!tracing.enabled) return untraced;
  const parent = context.active();
  const span = tracing.tracer.startSpan(
    `${method} ${template}`,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'http.request.method': method,
        'server.address': server.hostname,
        'server.port': Number(server.port) || (server.protocol === 'https:' ? 443 : 80),
        'url.full': href,
        'url.template': template,
      },
    },
    parent,
  );
  const headers: Record<string, string> = {};
  propagation.inject(trace.setSpan(parent, span), headers);
  let ended = false;
  return {
    headers,
    end(status) {
      if (ended) return;
      ended = true;
      span.setAttribute('http.response.status_code', status);
      if (status >= 400) {
        span.setAttribute('error.type', String(status));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    },
    fail(error) {
      if (ended) return;
      ended = true;
      markFailed(span, error);
      span.end();
    },
  };
}

/** Writes the active context's traceparent (and tracestate) into headers about to be forwarded. */
export function injectTraceContext(headers: Record<string, unknown>): void {
  propagation.inject(context.active(), headers);
}
