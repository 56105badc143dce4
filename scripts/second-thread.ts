// The all-in-one landscape's second thread: the edge, the core services and the bus they consume from.
// The main thread keeps the composite, the auth-server and the storefront, and publishes through the
// bus's port; requests then run on both cores. See startSecondThread in landscape.ts.
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { collectStartupGarbage, createLogger, processSpanStore, serveBus, type StoredSpan } from '@landscape/platform';
import { startCoreServices } from './core-services.ts';
import { startLocalEdge } from './landscape.ts';

export interface SecondThreadData {
  env: Record<string, string | undefined>;
  busPort: MessagePort;
}
export type ToSecondThread = { type: 'spans'; spans: StoredSpan[] } | { type: 'close' };
export type FromSecondThread =
  | { type: 'ready'; httpsPort: number; httpPort: number; managementPort: number }
  | { type: 'closed' };

const port = parentPort;
if (!port) throw new Error('second-thread.ts runs as a worker thread; start it with startSecondThread');

const { env, busPort } = workerData as SecondThreadData;
const logger = createLogger('landscape');
const cores = await startCoreServices(env, logger);
serveBus(cores.bus, busPort);
const edge = await startLocalEdge(env);
// The main thread's spans join this thread's own in the store the edge's management port serves.
const spans = processSpanStore();
port.on('message', (message: ToSecondThread) => {
  if (message.type === 'spans') {
    for (const span of message.spans) spans.add(span);
    return;
  }
  // The edge stops taking requests first.
  void edge
    .close()
    .then(() => cores.close())
    .then(() => {
      port.postMessage({ type: 'closed' } satisfies FromSecondThread);
      port.close();
    });
});
const { httpsPort, httpPort, managementPort } = edge;
port.postMessage({ type: 'ready', httpsPort, httpPort, managementPort } satisfies FromSecondThread);
await collectStartupGarbage(logger);
