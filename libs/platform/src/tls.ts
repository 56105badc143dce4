import { readFileSync } from 'node:fs';
import { Type, type Static } from '@landscape/vendor/typebox';

/**
 * TLS to a server the service connects to (PostgreSQL, MySQL, RabbitMQ). Managed servers are reached
 * by their real host name, so the certificate's name is checked against `serverName` (or the host).
 */
export const tlsConfigSchema = Type.Object({
  enabled: Type.Boolean({ default: false }),
  /** PEM file of the CA that signed the server's certificate; the system's CAs when absent. */
  caFile: Type.Optional(Type.String({ minLength: 1 })),
  /** The name the certificate must carry, when it differs from the host connected to. */
  serverName: Type.Optional(Type.String({ minLength: 1 })),
  /** Off only to diagnose; a server whose certificate is not checked can be anyone. */
  verify: Type.Boolean({ default: true }),
});

export type TlsConfig = Static<typeof tlsConfigSchema>;

/** The part of Node's TLS options both database drivers and amqplib take as they are. */
export interface TlsOptions {
  servername: string;
  rejectUnauthorized: boolean;
  ca?: string;
}

/** Node's TLS options for a connection to `host`, or undefined when TLS is off. */
export function tlsOptions(tls: TlsConfig | undefined, host: string, key: string): TlsOptions | undefined {
  if (tls?.enabled !== true) return undefined;
  let ca: string | undefined;
  if (tls.caFile !== undefined) {
    try {
      ca = readFileSync(tls.caFile, 'utf8');
    } catch (error) {
      throw new Error(`${key}.caFile ${tls.caFile} cannot be read: ${(error as Error).message}`, { cause: error });
    }
    // A bundle without a certificate (a placeholder left in place) would make every server untrusted.
    if (!ca.includes('-----BEGIN CERTIFICATE-----'))
      throw new Error(`${key}.caFile ${tls.caFile} holds no PEM certificate`);
  }
  return {
    servername: tls.serverName ?? host,
    rejectUnauthorized: tls.verify,
    ...(ca !== undefined ? { ca } : {}),
  };
}
