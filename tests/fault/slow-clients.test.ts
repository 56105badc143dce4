// Slow clients: many connections that send their headers a byte at a time. The edge keeps serving
// everyone else meanwhile, and cuts the slow ones once its header timeout has passed.
import assert from 'node:assert/strict';
import { connect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { rawRequest } from './http.ts';
import { startInProcessLandscape, type InProcessLandscape } from './landscape.ts';
import { recordRow } from './summary.ts';

const trickleMs = 30000;

/** A connection that trickles a never-ending header; resolves with whether the server cut it first. */
function slowClient(port: number): Promise<{ cutByServer: boolean; answer: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'localhost' });
    let answer = '';
    let timer: NodeJS.Timeout | undefined;
    const stopAt = Date.now() + trickleMs;
    const finish = (cutByServer: boolean) => {
      clearInterval(timer);
      socket.destroy();
      resolve({ cutByServer, answer: answer.split('\r\n')[0] ?? '' });
    };
    socket.once('secureConnect', () => {
      socket.write('GET /actuator/health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ');
      timer = setInterval(() => {
        if (Date.now() > stopAt) finish(false);
        else socket.write('a');
      }, 500);
    });
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
  });
}

describe('fault suite: slow clients', () => {
  let landscape: InProcessLandscape;
  before(async () => {
    landscape = await startInProcessLandscape({ EDGE_HEADERS_TIMEOUT_MS: '3000' });
  });
  after(async () => {
    await landscape?.close();
  });

  it('when 100 clients trickle their headers, then normal requests are still served and the slow ones are cut by the header timeout', async () => {
    const port = landscape.edge.httpsPort;
    const slow = Promise.all(Array.from({ length: 100 }, () => slowClient(port)));
    let served = 0;
    let failed = 0;
    let settled = false;
    void slow.then(() => {
      settled = true;
    });
    while (!settled) {
      const answer = await rawRequest(
        { port, tls: true },
        'GET /.well-known/openid-configuration HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
        5000,
      );
      if (answer.status === 200) served += 1;
      else failed += 1;
      // Pacing: normal requests keep coming, 100 ms apart, for as long as the slow clients hold their connections.
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const results = await slow;
    const notCut = results.filter((r) => !r.cutByServer).length;
    recordRow({
      row: 'slow clients (100 trickling, normal requests meanwhile)',
      attempts: served + failed + results.length,
      failures: failed + notCut,
    });
    assert.equal(failed, 0, `normal requests failed while slow clients held connections (${served} served)`);
    assert.ok(served > 0);
    assert.equal(notCut, 0, 'every slow connection is cut by the server before the client gives up');
    assert.ok(
      results.every((r) => r.answer === '' || /^HTTP\/1\.1 408/.test(r.answer)),
      `a cut connection gets a 408 or nothing: ${results.map((r) => r.answer).filter(Boolean)[0]}`,
    );
  });
});
