import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { join, resolve } from 'node:path';
import { rootCertificates } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import type * as Acme from 'acme-client';
import type { Logger } from 'pino';
import {
  backoffDelay,
  ConfigError,
  envName,
  errorMessage,
  invalidConfiguration,
  type HealthContributor,
  type HealthResult,
} from '@landscape/platform/core';
import {
  certificateDetails,
  coversNames,
  describeCertificate,
  type CertificateInfo,
  type KeyAndCertificate,
} from './certificates.ts';
import type { EdgeConfig } from './config.ts';
import type { Edge } from './edge.ts';

export const DIRECTORY_PRESETS: Readonly<Record<string, string>> = {
  'letsencrypt-staging': 'https://acme-staging-v02.api.letsencrypt.org/directory',
  'letsencrypt-production': 'https://acme-v02.api.letsencrypt.org/directory',
};

/** Renewal starts at two thirds of a certificate's lifetime, as cert-manager does by default. */
const RENEW_AT_FRACTION = 2 / 3;
// setTimeout cannot wait longer than about 24.8 days; a renewal 60 days out is waited for in steps.
const MAX_TIMER_MS = 2 ** 31 - 1;
// An in-flight order is left behind on stop after this long; its result is discarded either way.
const STOP_WAIT_MS = 10_000;
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

export interface AcmeSettings {
  directoryUrl: string;
  email: string | undefined;
  domains: string[];
  /** Extra CA certificates (PEM) trusted for the ACME server's own TLS. */
  ca: string | undefined;
  retryInitialDelayMs: number;
  retryMaxDelayMs: number;
  pollIntervalMs: number;
}

/** The ACME settings, or undefined when ACME is off (no directory); anything inconsistent stops start-up. */
export function acmeSettings(config: EdgeConfig): AcmeSettings | undefined {
  const { acme: given, edge } = config;
  const domains = [...new Set(edge.domains.map((domain) => domain.trim().toLowerCase()).filter(Boolean))];
  if (given.directoryUrl.trim() === '') {
    if (domains.length > 0)
      throw invalidConfiguration(
        'acme.directoryUrl',
        'edge.domains is set, so an ACME directory is needed (a preset such as letsencrypt-staging, or a URL)',
      );
    return undefined;
  }
  const directoryUrl = DIRECTORY_PRESETS[given.directoryUrl.trim()] ?? given.directoryUrl.trim();
  if (!URL.canParse(directoryUrl)) {
    throw invalidConfiguration(
      'acme.directoryUrl',
      `${given.directoryUrl} is neither a preset (${Object.keys(DIRECTORY_PRESETS).join(', ')}) nor a URL`,
    );
  }
  if (new URL(directoryUrl).protocol !== 'https:')
    throw invalidConfiguration('acme.directoryUrl', 'an ACME directory is served over https');
  if (domains.length === 0) {
    throw new ConfigError(
      `Missing configuration key: edge.domains (set it in a config file or as ${envName('edge.domains')}); acme.directoryUrl is set`,
    );
  }
  for (const domain of domains) {
    if (!DNS_NAME.test(domain))
      throw invalidConfiguration(
        'edge.domains',
        `${domain} is not a DNS name http-01 can validate (no wildcards, no IP addresses)`,
      );
  }
  const email = given.email.trim();
  if (email !== '' && !/^[^@\s]+@[^@\s]+$/.test(email))
    throw invalidConfiguration('acme.email', `${email} is not an e-mail address`);
  let ca: string | undefined;
  if (given.caFile !== '') {
    try {
      ca = readFileSync(resolve(given.caFile), 'utf8');
    } catch (error) {
      throw invalidConfiguration('acme.caFile', `cannot read ${given.caFile}: ${errorMessage(error)}`);
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----'))
      throw invalidConfiguration('acme.caFile', `${given.caFile} holds no PEM certificate`);
  }
  if (given.retryMaxDelayMs < given.retryInitialDelayMs)
    throw invalidConfiguration('acme.retryMaxDelayMs', 'must not be below acme.retryInitialDelayMs');
  return {
    directoryUrl,
    email: email === '' ? undefined : email,
    domains,
    ca,
    retryInitialDelayMs: given.retryInitialDelayMs,
    retryMaxDelayMs: given.retryMaxDelayMs,
    pollIntervalMs: given.pollIntervalMs,
  };
}

export interface CertificateManagerOptions {
  settings: AcmeSettings;
  /** The edge's data folder: the account key and the certificate are kept under acme/<directory>/ in it. */
  dataDir: string;
  logger: Logger;
  now?: () => number;
}

export interface CertificateManager {
  /** The certificate kept from an earlier run, if it has not expired; serve it from the start. */
  readonly stored: KeyAndCertificate | undefined;
  /** Takes over the edge's certificate; `inService` is what the edge serves now. */
  start(edge: Pick<Edge, 'challenges' | 'useCertificate'>, inService: KeyAndCertificate): void;
  stop(): Promise<void>;
  /** The `certificate` component of the edge's health. */
  readonly health: HealthContributor;
}

interface Served {
  pair: KeyAndCertificate;
  info: CertificateInfo;
  source: 'acme' | 'development';
}

/** One folder per CA, so switching from staging to production neither reuses its account nor its certificate. */
const folderFor = (directoryUrl: string) => {
  const url = new URL(directoryUrl);
  return `${url.host}${url.pathname}`.replace(/[^A-Za-z0-9.-]+/g, '_').replace(/^_+|_+$/g, '');
};

function writeAtomically(file: string, content: string, mode: number): void {
  writeFileSync(`${file}.tmp`, content, { mode });
  renameSync(`${file}.tmp`, file);
}

export const renewalTime = (info: CertificateInfo) =>
  info.notBefore.getTime() + (info.notAfter.getTime() - info.notBefore.getTime()) * RENEW_AT_FRACTION;

/**
 * Obtains the edge certificate from an ACME CA over http-01, keeps it and the account key on disk,
 * and renews it at two thirds of its lifetime. A failed order leaves the certificate in service and
 * is retried with exponential backoff.
 */
export function createCertificateManager(options: CertificateManagerOptions): CertificateManager {
  const { settings } = options;
  const { domains, directoryUrl } = settings;
  const now = options.now ?? Date.now;
  const logger = options.logger.child({ component: 'acme' });
  const folder = join(options.dataDir, 'acme', folderFor(directoryUrl));
  const files = {
    accountKey: join(folder, 'account-key.pem'),
    key: join(folder, 'certificate-key.pem'),
    cert: join(folder, 'certificate.pem'),
  };

  // acme-client (with its HTTP stack some 10 MiB resident) loads only where ACME is configured. It talks
  // through one shared axios instance, so its TLS trust and timeout are set there.
  let loaded: Promise<typeof Acme> | undefined;
  const acmeClient = () =>
    (loaded ??= import('acme-client').then((acme) => {
      if (settings.ca !== undefined)
        acme.axios.defaults.httpsAgent = new Agent({ ca: [...rootCertificates, settings.ca] });
      acme.axios.defaults.timeout = 30_000;
      return acme;
    }));

  const stored = readStored();
  let edge: Pick<Edge, 'challenges' | 'useCertificate'> | undefined;
  let served: Served | undefined;
  let lastRenewal: Date | undefined;
  let lastError: { message: string; at: Date } | undefined;
  let failures = 0;
  let nextAttempt: Date | undefined;
  let accountUrl: string | undefined;
  let accountClient: Promise<Acme.Client> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  let stopped = false;

  function readStored(): { pair: KeyAndCertificate; storedAt: Date } | undefined {
    if (!existsSync(files.key) || !existsSync(files.cert)) return undefined;
    try {
      const pair = { key: readFileSync(files.key, 'utf8'), cert: readFileSync(files.cert, 'utf8') };
      const parsed = new X509Certificate(pair.cert);
      if (!parsed.checkPrivateKey(createPrivateKey(pair.key)))
        throw new Error('the key does not belong to the certificate');
      if (Date.parse(parsed.validTo) <= now()) {
        logger.info(
          { notAfter: new Date(parsed.validTo).toISOString() },
          'the kept certificate has expired; a new one will be ordered',
        );
        return undefined;
      }
      return { pair, storedAt: statSync(files.cert).mtime };
    } catch (error) {
      logger.warn({ err: error, file: files.cert }, 'the kept certificate is unusable; a new one will be ordered');
      return undefined;
    }
  }

  async function register(): Promise<Acme.Client> {
    const acme = await acmeClient();
    let key = existsSync(files.accountKey) ? readFileSync(files.accountKey, 'utf8') : '';
    if (key === '') {
      key = (await acme.crypto.createPrivateEcdsaKey()).toString();
      mkdirSync(folder, { recursive: true });
      writeAtomically(files.accountKey, key, 0o600);
      logger.info({ file: files.accountKey }, 'ACME account key created');
    }
    const client = new acme.Client({
      directoryUrl,
      accountKey: key,
      backoffMin: settings.pollIntervalMs,
      backoffMax: Math.max(settings.pollIntervalMs, 30_000),
    });
    // Configuring a directory is the consent to its terms, as with a cert-manager Issuer.
    await client.createAccount({
      termsOfServiceAgreed: true,
      ...(settings.email ? { contact: [`mailto:${settings.email}`] } : {}),
    });
    accountUrl = client.getAccountUrl();
    logger.info({ accountUrl, directoryUrl }, 'ACME account ready');
    return client;
  }

  const account = () =>
    (accountClient ??= register().catch((error: unknown) => {
      accountClient = undefined;
      throw error;
    }));

  async function authorize(client: Acme.Client, authz: Acme.Authorization): Promise<void> {
    const domain = authz.identifier.value;
    if (authz.status === 'valid') return;
    const challenge = authz.challenges.find((candidate) => candidate.type === 'http-01');
    if (!challenge) throw new Error(`${domain}: the CA offers no http-01 challenge`);
    const keyAuthorization = await client.getChallengeKeyAuthorization(challenge);
    const challenges = edge?.challenges;
    challenges?.set(challenge.token, keyAuthorization);
    try {
      await client.completeChallenge(challenge);
      await client.waitForValidStatus(challenge);
      await client.waitForValidStatus(authz);
    } catch (error) {
      throw new Error(`${domain}: http-01 challenge failed: ${errorMessage(error)}`);
    } finally {
      challenges?.delete(challenge.token);
    }
  }

  async function order(): Promise<KeyAndCertificate> {
    const acme = await acmeClient();
    const client = await account();
    const placed = await client.createOrder({ identifiers: domains.map((value) => ({ type: 'dns', value })) });
    const authorizations = await client.getAuthorizations(placed);
    // Every domain gets its answer before failing, so the error names all that failed.
    const results = await Promise.allSettled(authorizations.map((authz) => authorize(client, authz)));
    const failed = results.flatMap((result) => (result.status === 'rejected' ? [errorMessage(result.reason)] : []));
    if (failed.length > 0) throw new Error(failed.join('; '));
    const [key, csr] = await acme.crypto.createCsr(
      { altNames: domains, ...(domains[0] !== undefined && domains[0].length <= 64 ? { commonName: domains[0] } : {}) },
      await acme.crypto.createPrivateEcdsaKey(),
    );
    const finalized = await client.finalizeOrder(placed, csr);
    const cert = await client.getCertificate(finalized);
    if (!coversNames(new X509Certificate(cert), domains))
      throw new Error(`the CA returned a certificate that does not cover ${domains.join(', ')}`);
    return { key: key.toString(), cert };
  }

  function schedule(at: number): void {
    clearTimeout(timer);
    nextAttempt = new Date(at);
    const tick = () => {
      const remaining = at - now();
      if (remaining > 0) {
        timer = setTimeout(tick, Math.min(remaining, MAX_TIMER_MS));
        // The servers keep the process alive; a pending renewal alone should not.
        timer.unref();
        return;
      }
      const running: Promise<void> = renew().finally(() => {
        if (inFlight === running) inFlight = undefined;
      });
      inFlight = running;
    };
    tick();
  }

  function serve(pair: KeyAndCertificate, source: Served['source']): void {
    served = { pair, info: describeCertificate(pair.cert), source };
  }

  function scheduleRenewal(): void {
    const info = served?.info;
    if (!info) return;
    const at = renewalTime(info);
    logger.info(
      { serialNumber: info.serialNumber, notAfter: info.notAfter.toISOString(), renewAt: new Date(at).toISOString() },
      'certificate renewal scheduled',
    );
    // A CA handing out certificates already due for renewal must not be asked in a tight loop.
    schedule(Math.max(at, now() + Math.min(settings.retryInitialDelayMs, 1000)));
  }

  async function renew(): Promise<void> {
    nextAttempt = undefined;
    const renewing = served?.source === 'acme';
    logger.info(
      { domains, directoryUrl, attempt: failures + 1 },
      renewing ? 'renewing certificate' : 'ordering certificate',
    );
    let pair: KeyAndCertificate;
    try {
      pair = await order();
    } catch (error) {
      if (stopped) return;
      // A fresh account lookup on the next try also heals an account the CA no longer knows.
      accountClient = undefined;
      failures += 1;
      const delay = backoffDelay(failures - 1, {
        initialMs: settings.retryInitialDelayMs,
        maxMs: settings.retryMaxDelayMs,
      });
      lastError = { message: errorMessage(error), at: new Date(now()) };
      logger.error(
        {
          domains,
          error: lastError.message,
          consecutiveFailures: failures,
          retryInMs: delay,
          serialNumber: served?.info.serialNumber,
        },
        'certificate order failed; the certificate in service stays',
      );
      schedule(now() + delay);
      return;
    }
    if (stopped) return;
    try {
      mkdirSync(folder, { recursive: true });
      writeAtomically(files.key, pair.key, 0o600);
      writeAtomically(files.cert, pair.cert, 0o644);
    } catch (error) {
      logger.error(
        { err: error, folder },
        'the certificate could not be kept on disk; it is served, and ordered again after a restart',
      );
    }
    const previous = served?.info.serialNumber;
    serve(pair, 'acme');
    edge?.useCertificate(pair);
    lastRenewal = new Date(now());
    failures = 0;
    lastError = undefined;
    const info = describeCertificate(pair.cert);
    logger.info(
      {
        issuer: info.issuer,
        names: info.names,
        serialNumber: info.serialNumber,
        previousSerialNumber: previous,
        notAfter: info.notAfter.toISOString(),
      },
      renewing ? 'certificate renewed and in service' : 'certificate obtained and in service',
    );
    scheduleRenewal();
  }

  function check(): HealthResult {
    if (!served) return { status: 'DOWN', details: { error: 'not started' } };
    const { info, source } = served;
    const valid = info.notAfter.getTime() > now();
    const details: Record<string, unknown> = {
      source,
      directoryUrl,
      domains,
      missingDomains: domains.filter((domain) => !info.names.includes(domain)),
      ...certificateDetails(info),
      renewAt: source === 'acme' ? new Date(renewalTime(info)).toISOString() : null,
      lastRenewal: lastRenewal?.toISOString() ?? null,
      lastRenewalError: lastError?.message ?? null,
      lastRenewalErrorAt: lastError?.at.toISOString() ?? null,
      consecutiveFailures: failures,
      orderInProgress: inFlight !== undefined,
      nextAttempt: nextAttempt?.toISOString() ?? null,
      accountUrl: accountUrl ?? null,
    };
    if (source !== 'acme')
      details['error'] = 'no certificate from the ACME server yet; the development certificate is served';
    else if (!valid) details['error'] = 'the certificate in service has expired';
    // A renewal error alone is not DOWN: the certificate in service is still good.
    return { status: source === 'acme' && valid ? 'UP' : 'DOWN', details };
  }

  return {
    stored: stored?.pair,
    start(target, inService) {
      edge = target;
      const reused = stored !== undefined && inService === stored.pair;
      serve(inService, reused ? 'acme' : 'development');
      const info = served?.info;
      if (reused && info && coversNames(new X509Certificate(inService.cert), domains)) {
        lastRenewal = stored.storedAt;
        logger.info(
          { issuer: info.issuer, serialNumber: info.serialNumber, notAfter: info.notAfter.toISOString() },
          'certificate from an earlier run reused',
        );
        scheduleRenewal();
      } else {
        if (reused)
          logger.info(
            { domains, names: info?.names },
            'the kept certificate does not cover every domain; it stays in service until a new one is obtained',
          );
        schedule(now());
      }
      // Looking the account up at once shows a wrong directory or CA trust at start, not at the first renewal.
      account().catch((error: unknown) =>
        logger.warn(
          { error: errorMessage(error), directoryUrl },
          'ACME account lookup failed; it is tried again with the next order',
        ),
      );
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      nextAttempt = undefined;
      if (inFlight) await Promise.race([inFlight, sleep(STOP_WAIT_MS, undefined, { ref: false })]);
    },
    health: { name: 'certificate', readiness: false, check },
  };
}
