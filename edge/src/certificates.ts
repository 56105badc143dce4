import { X509Certificate as NodeCertificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface KeyAndCertificate {
  key: string;
  cert: string;
}

const VALID_DAYS = 365;

const isIp = (name: string) => /^[\d.]+$|:/.test(name);

/** Whether a certificate (the first of a PEM chain) is valid for every one of the names. */
export function coversNames(certificate: NodeCertificate, names: readonly string[]): boolean {
  return names.every((name) => (isIp(name) ? certificate.checkIP(name) : certificate.checkHost(name)) !== undefined);
}

export interface CertificateInfo {
  issuer: string;
  subject: string;
  /** DNS names and IP addresses of the subject alternative names. */
  names: string[];
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
}

/** What the health endpoint reports about a served certificate (the first of a PEM chain). */
export function describeCertificate(pem: string): CertificateInfo {
  const parsed = new NodeCertificate(pem);
  const oneLine = (name: string) => name.split('\n').filter(Boolean).join(', ');
  const names = (parsed.subjectAltName ?? '')
    .split(', ')
    .map((entry) => entry.replace(/^(DNS|IP Address):/, ''))
    .filter(Boolean);
  return {
    issuer: oneLine(parsed.issuer),
    subject: oneLine(parsed.subject),
    names,
    serialNumber: parsed.serialNumber,
    notBefore: new Date(parsed.validFrom),
    notAfter: new Date(parsed.validTo),
  };
}

/** How a certificate appears in the edge's health report. */
export function certificateDetails(info: CertificateInfo): Record<string, unknown> {
  return {
    issuer: info.issuer,
    subject: info.subject,
    subjectAltNames: info.names,
    serialNumber: info.serialNumber,
    notBefore: info.notBefore.toISOString(),
    notAfter: info.notAfter.toISOString(),
  };
}

/**
 * The development certificate: generated on first run, kept in the data folder, and generated again
 * only when it has expired or no longer covers the configured names.
 */
export async function loadOrCreateDevCertificate(dir: string, names: readonly string[]): Promise<KeyAndCertificate> {
  const keyFile = join(dir, 'dev-key.pem');
  const certFile = join(dir, 'dev-cert.pem');
  if (existsSync(keyFile) && existsSync(certFile)) {
    const kept = { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') };
    const parsed = new NodeCertificate(kept.cert);
    if (Date.parse(parsed.validTo) > Date.now() + 24 * 3600 * 1000 && coversNames(parsed, names)) return kept;
  }
  const created = await createSelfSigned(names);
  mkdirSync(dir, { recursive: true });
  writeFileSync(keyFile, created.key, { mode: 0o600 });
  writeFileSync(certFile, created.cert);
  return created;
}

export async function createSelfSigned(names: readonly string[], validDays = VALID_DAYS): Promise<KeyAndCertificate> {
  // Loaded only to make a certificate (some 7 MiB resident), not by an edge that serves a kept one.
  // @peculiar/x509 resolves its algorithm providers through decorators that need this polyfill.
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(crypto.getRandomValues(new Uint8Array(16)))
      .toString('hex')
      .replace(/^[89a-f]/, '1'),
    name: `CN=${names[0] ?? 'localhost'}, O=Product landscape development`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + validDays * 24 * 3600 * 1000),
    keys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: isIp(value) ? 'ip' : 'dns', value }))),
    ],
  });
  const pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey);
  const key = `-----BEGIN PRIVATE KEY-----\n${Buffer.from(pkcs8)
    .toString('base64')
    .match(/.{1,64}/g)
    ?.join('\n')}\n-----END PRIVATE KEY-----\n`;
  return { key, cert: certificate.toString('pem') };
}
