// Answers written straight to a socket, for what reaches a server before any handler: shared by the
// services' fastify apps and the edge's plain node:http servers.
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { errorBody } from './errors.ts';

/**
 * A complete response in the contract's shape, written straight to a socket, for requests the HTTP
 * parser refused before any handler saw them. The connection closes after it.
 */
export function rawErrorResponse(status: number, message: string, extraHeaders: Record<string, string> = {}): string {
  const requestId = randomUUID();
  const body = JSON.stringify(errorBody(status, '', message, requestId));
  const headers = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    ...extraHeaders,
    'x-request-id': requestId,
    connection: 'close',
  };
  const lines = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n${lines}\r\n${body}`;
}

/** What the parser's error means for the client: headers too large, too slow, or simply malformed. */
export function answerClientError(
  error: NodeJS.ErrnoException,
  socket: Socket,
  extraHeaders: Record<string, string> = {},
): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request headers too large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request not received in time']
        : [400, 'Malformed HTTP request'];
  socket.end(rawErrorResponse(status, message, extraHeaders));
}

/**
 * CONNECT asks for a tunnel to any host:port, which no server here offers. Without a listener Node drops
 * the connection without a word; this answers it in the contract's shape instead.
 */
export function refuseTunnels(
  server: { on(event: 'connect', listener: (request: unknown, socket: Socket) => void): unknown },
  extraHeaders: Record<string, string> = {},
): void {
  server.on('connect', (_request, socket) => {
    socket.end(rawErrorResponse(400, 'Request target must be origin-form: CONNECT is not supported', extraHeaders));
  });
}
