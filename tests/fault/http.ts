// Raw HTTP/1.1 over a socket, so the suite can send what fetch never would and read the status line.
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';

export interface RawAnswer {
  /** The status code of the first response, or undefined when the connection ended without one. */
  status: number | undefined;
  head: string;
  /** `timeout` when nothing arrived within the bound, `closed` when the peer closed without an answer. */
  outcome: 'answered' | 'closed' | 'timeout' | 'error';
}

export function rawRequest(
  target: { port: number; tls?: boolean; host?: string },
  bytes: Buffer | string,
  timeoutMs = 5000,
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const host = target.host ?? '127.0.0.1';
    const socket: Socket = target.tls
      ? connectTls({ host, port: target.port, rejectUnauthorized: false, servername: 'localhost' })
      : connectTcp({ host, port: target.port });
    let received = '';
    let done = false;
    const finish = (outcome: RawAnswer['outcome']) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(received);
      const head = received.split('\r\n\r\n')[0] ?? '';
      resolve({ status: match ? Number(match[1]) : undefined, head, outcome: match ? 'answered' : outcome });
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    socket.once(target.tls ? 'secureConnect' : 'connect', () => socket.write(bytes));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      // The head is enough; a body may be long or never end on a kept-alive connection.
      if (received.includes('\r\n\r\n')) finish('answered');
    });
    socket.on('end', () => finish('closed'));
    socket.on('error', () => finish('error'));
  });
}
