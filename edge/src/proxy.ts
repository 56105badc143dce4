import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { errorBody } from '@landscape/platform';
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
}

// Hop-by-hop headers belong to one connection and are never forwarded (RFC 9110, 7.6.1).
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

export const HSTS = 'max-age=31536000; includeSubDomains';

function sendError(response: ServerResponse, status: number, path: string, message: string): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const body = JSON.stringify(errorBody(status, path, message));
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'strict-transport-security': HSTS });
  response.end(body);
}

/** The HTTPS side: route by the Ingress paths, forward with X-Forwarded-*, answer failures in the contract's shape. */
export function createProxyHandler(settings: ProxySettings) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

  const handler = (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'https://edge');
    const route = matchRoute(settings.routes, url.pathname);
    if (!route) return sendError(response, 404, url.pathname, `No route for ${url.pathname}`);
    const base = settings.backends[route.service];
    if (!base) return sendError(response, 502, url.pathname, `No backend configured for service ${route.service}`);

    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > settings.bodyLimitBytes) {
      request.resume();
      return sendError(response, 413, url.pathname, `Request body larger than ${settings.bodyLimitBytes} bytes`);
    }

    const headers: http.OutgoingHttpHeaders = { ...request.headers };
    for (const name of HOP_BY_HOP) delete headers[name];
    const client = request.socket.remoteAddress ?? '';
    const forwardedFor = request.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = forwardedFor ? `${forwardedFor}, ${client}` : client;
    headers['x-forwarded-proto'] = 'https';
    headers['x-forwarded-host'] = request.headers.host ?? '';
    headers['x-forwarded-port'] = String(settings.httpsPort);
    if (request.headers['transfer-encoding']) headers['transfer-encoding'] = 'chunked';

    const target = new URL(request.url ?? '/', base);
    const upstream = http.request(target, { method: request.method, headers, agent, timeout: settings.connectTimeoutMs });
    let answered = false;
    const responseTimer = setTimeout(() => {
      if (answered) return;
      answered = true;
      upstream.destroy();
      sendError(response, 504, url.pathname, `${route.service} did not answer within ${settings.responseTimeoutMs} ms`);
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
      response.writeHead(answer.statusCode ?? 502, out);
      answer.pipe(response);
      answer.on('error', () => response.destroy());
    });
    upstream.on('error', (error) => {
      clearTimeout(responseTimer);
      if (answered) return response.destroy();
      answered = true;
      settings.logger.warn({ err: error, service: route.service, path: url.pathname }, 'backend unavailable');
      sendError(response, 502, url.pathname, `${route.service} is unavailable`);
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
        sendError(response, 413, url.pathname, `Request body larger than ${settings.bodyLimitBytes} bytes`);
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
