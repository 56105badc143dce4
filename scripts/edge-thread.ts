// The all-in-one landscape's edge, in a worker thread of its own: TLS and proxying then run on a
// second core while the services keep the main thread. See startEdgeThread in landscape.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { processSpanStore, type StoredSpan } from '@landscape/platform/core';
import { startLocalEdge } from './landscape.ts';

export type ToEdgeThread = { type: 'spans'; spans: StoredSpan[] } | { type: 'close' };
export type FromEdgeThread =
  | { type: 'ready'; httpsPort: number; httpPort: number; managementPort: number }
  | { type: 'closed' };

const port = parentPort;
if (!port) throw new Error('edge-thread.ts runs as a worker thread; start it with startEdgeThread');

const edge = await startLocalEdge(workerData as Record<string, string | undefined>);
// The services' spans, made on the main thread, join the edge's own in the store its management port serves.
const spans = processSpanStore();
port.on('message', (message: ToEdgeThread) => {
  if (message.type === 'spans') {
    for (const span of message.spans) spans.add(span);
    return;
  }
  void edge.close().then(() => {
    port.postMessage({ type: 'closed' } satisfies FromEdgeThread);
    port.close();
  });
});
const { httpsPort, httpPort, managementPort } = edge;
port.postMessage({ type: 'ready', httpsPort, httpPort, managementPort } satisfies FromEdgeThread);
