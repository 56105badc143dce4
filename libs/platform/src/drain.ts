import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

interface Connection {
  busy: number;
  idleSince: number;
}

/**
 * Graceful shutdown of an HTTP(S) server with keep-alive clients. While draining, every response
 * starts with `Connection: close`; a connection whose last response went out without it is ended once
 * it has been idle for graceMs, so a request already on its way over it is still answered. Sockets are
 * ended after their pending writes are flushed, never destroyed with an answer half sent.
 */
export function drainable(server: Server, options: { tls: boolean; graceMs: number }) {
  const { graceMs } = options;
  const connections = new Map<Socket, Connection>();
  let draining = false;

  const endWhenIdle = (socket: Socket) => {
    const state = connections.get(socket);
    if (!state || state.busy > 0) return;
    const waited = Date.now() - state.idleSince;
    if (waited >= graceMs) socket.destroySoon();
    else setTimeout(() => endWhenIdle(socket), graceMs - waited);
  };

  // A TLS server's requests arrive on the TLSSocket of 'secureConnection', a plain one's on 'connection'.
  server.on(options.tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    connections.set(socket, { busy: 0, idleSince: Date.now() });
    socket.once('close', () => connections.delete(socket));
  });
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const state = connections.get(request.socket);
    if (!state) return;
    state.busy++;
    response.once('close', () => {
      state.busy--;
      state.idleSince = Date.now();
      if (draining) endWhenIdle(request.socket);
    });
  });

  return {
    /** Sets `Connection: close` on a response about to be written while draining. */
    closeIfDraining(response: ServerResponse): void {
      if (draining && !response.headersSent) response.setHeader('connection', 'close');
    },
    /**
     * Starts draining without closing the server, for a framework that closes it itself: from now on
     * connections end as described above, and the server's own closing of idle ones is turned off.
     */
    begin(): void {
      if (draining) return;
      draining = true;
      // http.Server#close would destroy the connections it deems idle, among them ones whose last
      // response is ended but not yet flushed to the client; here they are ended as described above.
      server.closeIdleConnections = () => undefined;
      for (const socket of connections.keys()) endWhenIdle(socket);
    },
    /** Stops accepting and resolves once every connection has ended. */
    drain(): Promise<void> {
      this.begin();
      return new Promise<void>((done) => server.close(() => done()));
    },
  };
}
