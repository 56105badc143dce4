import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import type { Logger } from 'pino';
import {
  answerClientError,
  disabledTracing,
  drainable,
  errorBody,
  httpServerDuration,
  refuseTunnels,
  tracedListener,
  type Metrics,
  type Tracing,
} from '@landscape/platform/core';
import { loadOrCreateDevCertificate, type KeyAndCertificate } from './certificates.ts';
import { repositoryRoot, type EdgeConfig } from './config.ts';
import { createProxyHandler, HSTS, originFormTarget, requestIdOf } from './proxy.ts';
import { readIngressRoutes } from './routes.ts';

export const ACME_CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

// How long a connection must have been idle before a shutdown ends it: a client that just got an
// answer may have its next request on the way.
const DRAIN_GRACE_MS = 250;

export interface Edge {
  httpsPort: number;
  httpPort: number;
  /** Serves another certificate from now on; connections already open keep theirs. */
  useCertificate(pair: KeyAndCertificate): void;
  /** http-01 challenge answers, served on the HTTP port. */
  challenges: Map<string, string>;
  close(): Promise<void>;
}

/**
 * TLS 1.2 only with forward secrecy and AEAD (no CBC, no SHA-1 MACs, no static RSA); TLS 1.3's own
 * suites, all AEAD, as Node's defaults list them.
 */
export const TLS_CIPHERS = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_AES_128_GCM_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

const tlsOptions = (pair: KeyAndCertificate) => ({
  ...pair,
  minVersion: 'TLSv1.2' as const,
  ciphers: TLS_CIPHERS,
  honorCipherOrder: true,
});

const fromRoot = (path: string) => (isAbsolute(path) ? path : resolve(repositoryRoot, path));

const listen = (server: Server, port: number, host: string) =>
  new Promise<number>((resolvePort, reject) => {
    server.once('error', reject);
    // ipv6Only false: on `::` IPv4 clients arrive as IPv4-mapped addresses on the same socket.
    server.listen({ port, host, ipv6Only: false }, () => resolvePort((server.address() as AddressInfo).port));
  });

/**
 * The local stand-in for the Ingress: TLS 1.2+ on the HTTPS port with the routes of the Ingress
 * manifest, and an HTTP port that redirects to HTTPS except for ACME http-01 challenges.
 */
export async function startEdge(
  config: EdgeConfig['edge'],
  logger: Logger,
  certificate?: KeyAndCertificate,
  metrics?: Metrics,
  tracing: Tracing = disabledTracing('edge'),
): Promise<Edge> {
  const routes = readIngressRoutes(fromRoot(config.ingressFile));
  // Data lives under the working directory, like the services' SQLite files.
  const pair = certificate ?? (await loadOrCreateDevCertificate(resolve(config.dataDir), config.certificateNames));
  const challenges = new Map<string, string>();
  // A redirect names only hosts this edge is configured to serve; any other Host gets the default name.
  const names = (config.domains.length > 0 ? config.domains : config.certificateNames).map((name) =>
    name.toLowerCase(),
  );
  const defaultName = config.domains[0]?.toLowerCase() ?? 'localhost';
  const redirectHost = (given: string | undefined) => {
    const name = (given ?? '').toLowerCase().replace(/:\d*$/, '');
    return names.includes(name) ? name : defaultName;
  };

  let httpsPort = config.httpsPort;
  const proxy = createProxyHandler({
    ...config,
    routes,
    logger,
    get httpsPort() {
      return httpsPort;
    },
    beforeAnswer: (response) => httpsDrain.closeIfDraining(response),
    ...(metrics?.enabled ? { duration: httpServerDuration(metrics) } : {}),
  });
  // Node looks for expired header timeouts only this often; a quarter of the bound keeps the cut close to it.
  // Node requires the head's bound to be within the whole request's.
  const requestTimeout = config.responseTimeoutMs + 5000;
  const headersTimeout = Math.min(config.headersTimeoutMs, requestTimeout);
  const serverOptions = {
    connectionsCheckingInterval: Math.min(30000, Math.ceil(headersTimeout / 4)),
    headersTimeout,
    requestTimeout,
  };
  const https = createHttpsServer({ ...tlsOptions(pair), ...serverOptions });
  const httpsDrain = drainable(https, { tls: true, graceMs: DRAIN_GRACE_MS });
  https.on(
    'request',
    tracedListener(tracing, 'https', (request: IncomingMessage, response: ServerResponse) =>
      proxy.handler(request, response),
    ),
  );
  // CONNECT asks for a tunnel to any host:port; the edge only routes to its own backends.
  refuseTunnels(https, { 'strict-transport-security': HSTS });
  // The parser's own 400 and 431 on the TLS port carry HSTS like every other answer there.
  https.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) =>
    answerClientError(error, socket, { 'strict-transport-security': HSTS }),
  );

  const http = createHttpServer(serverOptions, (request, response) => {
    httpDrain.closeIfDraining(response);
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    if (path.startsWith(ACME_CHALLENGE_PREFIX)) {
      const answer = challenges.get(path.slice(ACME_CHALLENGE_PREFIX.length));
      response.writeHead(answer === undefined ? 404 : 200, { 'content-type': 'text/plain' });
      response.end(answer ?? 'Unknown challenge');
      return;
    }
    const target = originFormTarget(request.url ?? '');
    if ('refused' in target) {
      const body = JSON.stringify(errorBody(400, path, target.refused, requestIdOf(request)));
      response.writeHead(400, { 'content-type': 'application/json; charset=utf-8' }).end(body);
      return;
    }
    const portSuffix = httpsPort === 443 ? '' : `:${httpsPort}`;
    // No HSTS here: RFC 6797 (8.1) has browsers ignore it over plain HTTP, and it must not be sent there.
    response.writeHead(308, {
      location: `https://${redirectHost(request.headers.host)}${portSuffix}${target.path}${target.search}`,
    });
    response.end();
  });
  const httpDrain = drainable(http, { tls: false, graceMs: DRAIN_GRACE_MS });

  http.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => answerClientError(error, socket));
  refuseTunnels(http);

  httpsPort = await listen(https, config.httpsPort, config.host);
  const httpPort = await listen(http, config.httpPort, config.host);
  logger.info(
    { httpsPort, httpPort, routes: routes.map((r) => `${r.pathType} ${r.path} -> ${r.service}`) },
    'edge listening',
  );

  return {
    httpsPort,
    httpPort,
    challenges,
    useCertificate: (next) => https.setSecureContext(tlsOptions(next)),
    async close() {
      // Stop accepting; idle connections end now, busy ones after their response.
      await Promise.all([httpsDrain.drain(), httpDrain.drain()]);
      proxy.close();
    },
  };
}
