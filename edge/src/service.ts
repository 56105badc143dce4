import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { createTracing, Health, Metrics, processSpanStore, type HealthContributor } from '@landscape/platform/core';
import { acmeSettings, createCertificateManager } from './acme.ts';
import {
  certificateDetails,
  describeCertificate,
  loadOrCreateDevCertificate,
  type KeyAndCertificate,
} from './certificates.ts';
import type { EdgeConfig } from './config.ts';
import { startEdge, type Edge } from './edge.ts';
import { startManagement } from './management.ts';

export interface RunningEdge extends Edge {
  /** The edge's own actuator (/actuator/health with the certificate component). */
  managementPort: number;
}

function developmentCertificateHealth(pair: KeyAndCertificate): HealthContributor {
  const info = describeCertificate(pair.cert);
  return {
    name: 'certificate',
    readiness: false,
    check: () => ({
      status: info.notAfter.getTime() > Date.now() ? 'UP' : 'DOWN',
      details: { source: 'development', ...certificateDetails(info) },
    }),
  };
}

/**
 * The edge with what surrounds it: the certificate (an ACME one when configured, else the development
 * one) and the management listener. close() stops them all.
 */
export async function startEdgeService(config: EdgeConfig, logger: Logger): Promise<RunningEdge> {
  const settings = acmeSettings(config);
  // Data lives under the working directory, like the services' SQLite files.
  const dataDir = resolve(config.edge.dataDir);
  const manager = settings && createCertificateManager({ settings, dataDir, logger });
  // A certificate kept from an earlier run is served from the first handshake; until one exists, the development one.
  const initial = manager?.stored ?? (await loadOrCreateDevCertificate(dataDir, config.edge.certificateNames));
  const metrics = new Metrics(config.metrics);
  const tracing = createTracing('edge', config.tracing);
  const edge = await startEdge(config.edge, logger, initial, metrics, tracing);
  const health = new Health();
  health.add(manager?.health ?? developmentCertificateHealth(initial));
  // The process's store: in the all-in-one process the services' spans are there too; services in
  // processes of their own can send theirs to the management port over OTLP/HTTP.
  const spans = processSpanStore(config.tracing.store);
  const management = await startManagement(
    { host: config.edge.managementHost, port: config.edge.managementPort },
    health,
    logger,
    metrics,
    spans,
  ).catch(async (error: unknown) => {
    await edge.close();
    throw error;
  });
  manager?.start(edge, initial);

  return {
    ...edge,
    managementPort: management.port,
    async close() {
      health.stopAccepting();
      await manager?.stop();
      await edge.close();
      await management.close();
      await tracing.shutdown();
    },
  };
}
