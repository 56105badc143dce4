import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { connect, type PeerCertificate, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { loadConfig } from '@landscape/platform';
import { assertContractError, eventually, freePort } from '@landscape/platform/testing';
import { acmeSettings } from './acme.ts';
import { createSelfSigned } from './certificates.ts';
import { DNS_TYPE, startDnsStub, type DnsStub } from './dns-test-support.ts';
import { edgeConfigSchema } from './config.ts';
import { startEdgeService, type RunningEdge } from './service.ts';

interface LogLine {
  level: string;
  msg: string;
  [key: string]: unknown;
}

/** Records what the edge logs, so a test can check the lines an operator would read. */
function recordingLogger(lines: LogLine[], bindings: Record<string, Json> = {}): Logger {
  const at = (level: string) => (first: unknown, message?: string) => {
    const fields = typeof first === 'string' ? {} : (first as Record<string, Json>);
    lines.push({ ...bindings, ...fields, level, msg: typeof first === 'string' ? first : (message ?? '') });
  };
  const logger = {
    trace: () => {},
    debug: () => {},
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    fatal: at('fatal'),
    child: (more: Record<string, Json>) => recordingLogger(lines, { ...bindings, ...more }),
  };
  return logger as unknown as Logger;
}

function httpsText(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, rejectUnauthorized: true, timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

// biome-ignore lint/suspicious/noExplicitAny: JSON answers read field by field
type Json = any;

async function getJson(url: string): Promise<{ status: number; body: Record<string, Json> }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: response.status, body: (await response.json()) as Record<string, Json> };
}

/** The certificate a client that trusts only `ca` sees for `servername`; rejects if it does not chain to it. */
function servedCertificate(port: number, servername: string, ca: string): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername, ca, rejectUnauthorized: true }, () => {
      resolve(socket.getPeerCertificate());
      socket.end();
    });
    socket.on('error', reject);
  });
}

/** A request through the edge to the backend, verified against `ca` for `servername`. */
function requestThroughEdge(
  port: number,
  ca: string,
  agent?: Agent,
): Promise<{ status: number; serialNumber: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/product-composite/1',
        servername: 'edge.test',
        headers: { host: 'edge.test' },
        ca,
        rejectUnauthorized: true,
        agent: agent ?? false,
        timeout: 5000,
      },
      (res) => {
        const serialNumber = (res.socket as TLSSocket).getPeerCertificate().serialNumber;
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, serialNumber }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer through the edge')));
    req.on('error', reject);
    req.end();
  });
}

interface Running {
  child: ChildProcess;
  output: () => string;
}

function run(command: string, args: string[], env: Record<string, string> = {}): Promise<Running> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    // A missing binary fails the suite: these tests must not pass by skipping.
    child.once('error', (error) =>
      reject(new Error(`cannot run ${command} (is pebble installed? apt-get install pebble): ${error.message}`)),
    );
    child.once('spawn', () => resolve({ child, output: () => output }));
  });
}

function stop(running: Running | undefined): Promise<void> {
  const child = running?.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    // A deadline for a child that ignores SIGTERM, not a wait: the exit event ends the stop.
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(kill);
      done();
    });
    child.kill('SIGTERM');
  });
}

const CERTIFICATE_VALIDITY_S = 30;

interface PebblePorts {
  acme: number;
  management: number;
  http: number;
  tls: number;
}

/** Pebble's configuration and listener key pair in `dir`; returns the listener's certificate, which clients trust. */
async function writePebbleConfig(dir: string, ports: PebblePorts): Promise<string> {
  const listener = await createSelfSigned(['127.0.0.1', 'localhost']);
  writeFileSync(join(dir, 'pebble-listener.pem'), listener.cert);
  writeFileSync(join(dir, 'pebble-listener-key.pem'), listener.key, { mode: 0o600 });
  writeFileSync(
    join(dir, 'pebble.json'),
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${ports.acme}`,
        managementListenAddress: `127.0.0.1:${ports.management}`,
        certificate: join(dir, 'pebble-listener.pem'),
        privateKey: join(dir, 'pebble-listener-key.pem'),
        // The port Pebble's validator connects to for http-01: the edge's http port.
        httpPort: ports.http,
        tlsPort: ports.tls,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
        certificateValidityPeriod: CERTIFICATE_VALIDITY_S,
      },
    }),
  );
  return listener.cert;
}

/** Waits until Pebble serves its directory (and `alsoReady` passes); returns Pebble's root certificate. */
async function pebbleReady(
  pebble: Running,
  acmePort: number,
  managementPort: number,
  listenerCa: string,
  alsoReady: () => Promise<void> = async () => {},
): Promise<string> {
  await eventually(
    async () => {
      if (pebble.child.exitCode !== null) throw new Error(`pebble exited: ${pebble.output()}`);
      assert.equal((await httpsText(`https://127.0.0.1:${acmePort}/dir`, listenerCa)).status, 200);
      await alsoReady();
    },
    { timeoutMs: 20000, intervalMs: 100 },
  );
  const root = await httpsText(`https://127.0.0.1:${managementPort}/roots/0`, listenerCa);
  assert.equal(root.status, 200);
  return root.body;
}

describe('ACME certificates against Pebble', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-acme-'));
  const ports = { acme: 0, pebbleManagement: 0, dns: 0, challtestManagement: 0, tls: 0, http: 0, https: 0 };
  let challtest: Running | undefined;
  let pebble: Running | undefined;
  let backend: Server;
  let pebbleRoot = '';
  let listenerCa = '';
  const edges: RunningEdge[] = [];

  async function startEdge(lines: LogLine[], extra: Record<string, string> = {}): Promise<RunningEdge> {
    const config = loadConfig(edgeConfigSchema, {
      service: 'edge',
      env: {
        CONFIG_LOCATION: join(dir, 'edge.yml'),
        ACME_DIRECTORY_URL: `https://127.0.0.1:${ports.acme}/dir`,
        ACME_EMAIL: 'edge@example.com',
        EDGE_DOMAINS: 'edge.test',
        ACME_CA_FILE: join(dir, 'pebble-listener.pem'),
        ACME_POLL_INTERVAL_MS: '100',
        ...extra,
      },
    });
    const edge = await startEdgeService(config, recordingLogger(lines));
    edges.push(edge);
    return edge;
  }

  async function closeEdge(edge: RunningEdge): Promise<void> {
    edges.splice(edges.indexOf(edge), 1);
    await edge.close();
  }

  const certificateHealth = async (edge: RunningEdge) => {
    const { body } = await getJson(`http://127.0.0.1:${edge.managementPort}/actuator/health`);
    return body['components']['certificate'] as { status: string; details: Record<string, Json> };
  };

  // A setup failure (no pebble installed, say) fails every test here rather than cancelling them.
  let setupError: unknown;
  const requirePebble = () => {
    if (setupError !== undefined) throw setupError;
  };

  before(async () => {
    try {
      await setUp();
    } catch (error) {
      setupError = error;
    }
  });

  async function setUp(): Promise<void> {
    for (const name of Object.keys(ports) as Array<keyof typeof ports>) ports[name] = await freePort();
    listenerCa = await writePebbleConfig(dir, {
      acme: ports.acme,
      management: ports.pebbleManagement,
      http: ports.http,
      tls: ports.tls,
    });
    backend = createServer((_request, response) =>
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'),
    );
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    writeFileSync(
      join(dir, 'ingress.yaml'),
      `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: edge}
spec:
  rules:
  - http:
      paths:
      - {path: /product-composite, pathType: Prefix, backend: {service: {name: product-composite, port: {number: 80}}}}
`,
    );
    writeFileSync(
      join(dir, 'edge.yml'),
      `edge:
  host: 127.0.0.1
  httpsPort: ${ports.https}
  httpPort: ${ports.http}
  managementPort: 0
  ingressFile: ${join(dir, 'ingress.yaml')}
  dataDir: ${join(dir, 'data')}
  certificateNames: [localhost, 127.0.0.1]
  backends:
    product-composite: http://127.0.0.1:${(backend.address() as AddressInfo).port}
`,
    );

    challtest = await run('pebble-challtestsrv', [
      '-dns01',
      `127.0.0.1:${ports.dns}`,
      '-http01',
      '',
      '-https01',
      '',
      '-tlsalpn01',
      '',
      '-management',
      `127.0.0.1:${ports.challtestManagement}`,
      '-defaultIPv4',
      '127.0.0.1',
      '-defaultIPv6',
      '',
    ]);
    pebble = await run('pebble', ['-config', join(dir, 'pebble.json'), '-dnsserver', `127.0.0.1:${ports.dns}`], {
      PEBBLE_VA_NOSLEEP: '1',
    });
    pebbleRoot = await pebbleReady(pebble, ports.acme, ports.pebbleManagement, listenerCa, async () => {
      // Any answer will do: it shows the mock DNS server's process is serving.
      await fetch(`http://127.0.0.1:${ports.challtestManagement}/`);
    });
  }

  // Each test runs its own edges, on the one http port Pebble validates against, and leaves none behind.
  afterEach(async () => {
    for (const edge of [...edges]) await closeEdge(edge);
  });
  after(async () => {
    // Edges first: an order in flight finishes against a live Pebble instead of waiting on a dead one.
    for (const edge of [...edges]) await closeEdge(edge);
    await Promise.all([stop(pebble), stop(challtest)]);
    backend?.close();
  });

  /** A data folder of the calling test's own, so no account or certificate of another test is reused. */
  let folders = 0;
  const dataDir = () => join(dir, `data-${++folders}`);

  /** Starts an edge keeping its state in `data` and waits until it serves a certificate from Pebble. */
  async function edgeWithCertificate(lines: LogLine[], data: string) {
    const edge = await startEdge(lines, { EDGE_DATA_DIR: data });
    const health = await eventually(
      async () => {
        const component = await certificateHealth(edge);
        assert.equal(component.details['source'], 'acme', JSON.stringify(component.details));
        return component;
      },
      { timeoutMs: 30000, intervalMs: 100 },
    );
    return { edge, health, serial: String(health.details['serialNumber']) };
  }

  it('when ACME is configured, then the edge obtains a certificate over http-01 and serves it chained to the CA root', async (t) => {
    requirePebble();
    const lines: LogLine[] = [];
    const { edge, health } = await edgeWithCertificate(lines, dataDir());

    const served = await servedCertificate(edge.httpsPort, 'edge.test', pebbleRoot);
    assert.match(served.subjectaltname ?? '', /DNS:edge\.test/);
    assert.equal(served.serialNumber, health.details['serialNumber']);
    assert.equal(health.status, 'UP');
    assert.match(health.details['issuer'], /Pebble Intermediate CA/);
    assert.equal(health.details['lastRenewalError'], null);
    assert.equal(typeof health.details['lastRenewal'], 'string');
    assert.deepEqual(health.details['subjectAltNames'], ['edge.test']);
    t.diagnostic(
      `issuer after issuance: ${health.details['issuer']} (serial ${served.serialNumber}, notAfter ${health.details['notAfter']})`,
    );

    assert.equal((await requestThroughEdge(edge.httpsPort, pebbleRoot)).status, 200);
    const overall = await getJson(`http://127.0.0.1:${edge.managementPort}/actuator/health`);
    assert.equal(overall.status, 200);
    assert.equal(overall.body['status'], 'UP');
    assert.deepEqual((await getJson(`http://127.0.0.1:${edge.managementPort}/actuator/health/liveness`)).body, {
      status: 'UP',
    });
    assert.equal(
      (await getJson(`http://127.0.0.1:${edge.managementPort}/actuator/health/readiness`)).body['status'],
      'UP',
    );
    assert.ok(
      lines.some(
        (line) => line.msg === 'certificate obtained and in service' && line['serialNumber'] === served.serialNumber,
      ),
      'the issuance is logged',
    );
  });

  it('when the certificate reaches two thirds of its lifetime, then it is renewed while requests through the edge keep succeeding', async (t) => {
    requirePebble();
    const { edge, serial: issuedSerial } = await edgeWithCertificate([], dataDir());
    const before = await certificateHealth(edge);
    const renewAt = Date.parse(before.details['renewAt']);
    assert.ok(renewAt < Date.parse(before.details['notAfter']));

    // One connection kept open across the swap, and a fresh connection for every other request.
    const kept = new Agent({ keepAlive: true, maxSockets: 1 });
    const seen = new Map<string, number>();
    const failures: string[] = [];
    let renewedSerial = '';
    try {
      // Requests go on through the edge, 50 ms apart, until one on a fresh connection meets the renewed certificate.
      await eventually(
        async () => {
          const answers = await Promise.allSettled([
            requestThroughEdge(edge.httpsPort, pebbleRoot),
            requestThroughEdge(edge.httpsPort, pebbleRoot, kept),
          ]);
          for (const [index, answer] of answers.entries()) {
            if (answer.status === 'rejected') failures.push(String(answer.reason));
            else if (answer.value.status !== 200) failures.push(`status ${answer.value.status}`);
            else {
              seen.set(answer.value.serialNumber, (seen.get(answer.value.serialNumber) ?? 0) + 1);
              if (index === 0 && answer.value.serialNumber !== issuedSerial) renewedSerial = answer.value.serialNumber;
            }
          }
          return renewedSerial !== '';
        },
        { timeoutMs: CERTIFICATE_VALIDITY_S * 1000 + 15000, intervalMs: 50, what: 'the certificate to be renewed' },
      );
    } finally {
      kept.destroy();
    }
    assert.deepEqual(failures, [], 'every request during the renewal window succeeds');
    assert.ok(
      (seen.get(issuedSerial) ?? 0) > 0 && (seen.get(renewedSerial) ?? 0) > 0,
      'requests were served with both certificates',
    );

    const served = await servedCertificate(edge.httpsPort, 'edge.test', pebbleRoot);
    assert.equal(served.serialNumber, renewedSerial);
    const after = await certificateHealth(edge);
    assert.equal(after.status, 'UP');
    assert.equal(after.details['serialNumber'], renewedSerial);
    assert.ok(
      Date.parse(after.details['lastRenewal']) >= renewAt - 1000,
      'the renewal happened at the planned time, not before',
    );
    t.diagnostic(
      `issuer after renewal: ${after.details['issuer']} (serial ${renewedSerial}, was ${issuedSerial}; ${[...seen.values()].reduce((a, b) => a + b, 0)} requests, none failed)`,
    );
  });

  it('when the edge restarts, then it keeps its account key and serves the kept certificate without a new order', async () => {
    requirePebble();
    const data = dataDir();
    const { edge: first, serial: issuedSerial } = await edgeWithCertificate([], data);
    const accountKeyFile = join(data, 'acme', `127.0.0.1_${ports.acme}_dir`, 'account-key.pem');
    const accountKey = readFileSync(accountKeyFile, 'utf8');
    const accountUrl = (await certificateHealth(first)).details['accountUrl'];
    assert.match(String(accountUrl), /^https:\/\/127\.0\.0\.1:/);
    await closeEdge(first);

    const lines: LogLine[] = [];
    const edge = await startEdge(lines, { EDGE_DATA_DIR: data });
    assert.equal(
      (await servedCertificate(edge.httpsPort, 'edge.test', pebbleRoot)).serialNumber,
      issuedSerial,
      'the kept certificate is served from the first handshake',
    );
    const health = await eventually(
      async () => {
        const component = await certificateHealth(edge);
        assert.equal(component.details['accountUrl'], accountUrl);
        return component;
      },
      { timeoutMs: 10000, intervalMs: 50 },
    );
    assert.equal(health.status, 'UP');
    assert.equal(health.details['source'], 'acme');
    assert.equal(health.details['serialNumber'], issuedSerial);
    assert.equal(readFileSync(accountKeyFile, 'utf8'), accountKey);
    assert.ok(lines.some((line) => line.msg === 'certificate from an earlier run reused'));
    assert.deepEqual(
      lines.filter((line) => /^(ordering|renewing) certificate$/.test(line.msg)),
      [],
      'no new order',
    );
    assert.ok(!lines.some((line) => line.msg === 'ACME account key created'));
  });

  it('when a domain fails validation, then the certificate in service stays, health and logs name the error, and the order is retried with backoff', async (t) => {
    requirePebble();
    const data = dataDir();
    const { edge: previous, serial: issuedSerial } = await edgeWithCertificate([], data);
    const added = await fetch(`http://127.0.0.1:${ports.challtestManagement}/add-a`, {
      method: 'POST',
      body: JSON.stringify({ host: 'fail.test', addresses: ['127.0.0.2'] }),
    });
    assert.equal(added.status, 200);
    await closeEdge(previous);

    const lines: LogLine[] = [];
    const edge = await startEdge(lines, {
      EDGE_DATA_DIR: data,
      EDGE_DOMAINS: 'edge.test,fail.test',
      ACME_RETRY_INITIAL_DELAY_MS: '200',
      ACME_RETRY_MAX_DELAY_MS: '800',
    });
    const failed = () =>
      lines.filter((line) => line.msg === 'certificate order failed; the certificate in service stays');
    await eventually(() => assert.ok(failed().length >= 4, `${failed().length} failed orders so far`), {
      timeoutMs: 30000,
      intervalMs: 50,
    });

    assert.deepEqual(
      failed()
        .slice(0, 4)
        .map((line) => line['retryInMs']),
      [200, 400, 800, 800],
      'exponential backoff up to the maximum',
    );
    const error = String(failed()[0]?.['error']);
    assert.match(error, /^fail\.test: http-01 challenge failed: /);
    assert.ok(!error.includes('edge.test'), 'only the failing domain is blamed');
    assert.equal(failed()[0]?.level, 'error');

    const health = await certificateHealth(edge);
    assert.equal(health.status, 'UP', 'the certificate in service is still valid');
    assert.equal(health.details['serialNumber'], issuedSerial);
    assert.deepEqual(health.details['missingDomains'], ['fail.test']);
    assert.match(health.details['lastRenewalError'], /^fail\.test: http-01 challenge failed: /);
    assert.ok(health.details['consecutiveFailures'] >= 4);
    assert.ok(health.details['nextAttempt'] !== null || health.details['orderInProgress'] === true);
    assert.equal((await servedCertificate(edge.httpsPort, 'edge.test', pebbleRoot)).serialNumber, issuedSerial);
    assert.equal((await requestThroughEdge(edge.httpsPort, pebbleRoot)).status, 200);
    t.diagnostic(
      `health after ${health.details['consecutiveFailures']} failed orders: ${health.status}, lastRenewalError: ${health.details['lastRenewalError']}`,
    );
  });
});

describe('ACME over IPv6', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-acme-v6-'));
  const domain = 'ipv6-only.test';
  let dns: DnsStub | undefined;
  let pebble: Running | undefined;
  let edge: RunningEdge | undefined;

  after(async () => {
    await edge?.close();
    await stop(pebble);
    await dns?.close();
  });

  it("when the CA resolves the domain to ::1 only, then it reaches the http-01 answer on the edge's default host and the certificate is issued", async (t) => {
    const ports = {
      acme: await freePort(),
      management: await freePort(),
      http: await freePort(),
      https: await freePort(),
      tls: await freePort(),
    };
    dns = await startDnsStub({ [domain]: '::1' });
    const listenerCa = await writePebbleConfig(dir, ports);
    pebble = await run('pebble', ['-config', join(dir, 'pebble.json'), '-dnsserver', `127.0.0.1:${dns.port}`], {
      PEBBLE_VA_NOSLEEP: '1',
      PEBBLE_VA_ALWAYS_VALID: '0',
    });
    const pebbleRoot = await pebbleReady(pebble, ports.acme, ports.management, listenerCa);

    writeFileSync(
      join(dir, 'ingress.yaml'),
      'kind: Ingress\nspec: {rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: x, port: {number: 80}}}}]}}]}\n',
    );
    // No `host`: the edge listens where it does by default.
    writeFileSync(
      join(dir, 'edge.yml'),
      `edge: {httpsPort: ${ports.https}, httpPort: ${ports.http}, managementPort: 0, ingressFile: ${join(dir, 'ingress.yaml')}, dataDir: ${join(dir, 'data')}, certificateNames: [localhost], backends: {}}\n`,
    );
    const config = loadConfig(edgeConfigSchema, {
      service: 'edge',
      env: {
        CONFIG_LOCATION: join(dir, 'edge.yml'),
        ACME_DIRECTORY_URL: `https://127.0.0.1:${ports.acme}/dir`,
        EDGE_DOMAINS: domain,
        ACME_CA_FILE: join(dir, 'pebble-listener.pem'),
        ACME_POLL_INTERVAL_MS: '100',
      },
    });
    edge = await startEdgeService(config, recordingLogger([]));
    const running = edge;

    // The first order's outcome, issued or failed; a failure is not retried before this check.
    const certificate = await eventually(
      async () => {
        const { body } = await getJson(`http://127.0.0.1:${running.managementPort}/actuator/health`);
        const component = body['components']['certificate'] as { status: string; details: Record<string, Json> };
        assert.ok(
          component.details['source'] === 'acme' || component.details['lastRenewalError'] !== null,
          'an order has finished',
        );
        return component;
      },
      { timeoutMs: 30000, intervalMs: 100 },
    );
    assert.equal(certificate.details['lastRenewalError'], null, 'the http-01 challenge passed over IPv6');
    assert.equal(certificate.details['source'], 'acme');
    assert.deepEqual(certificate.details['subjectAltNames'], [domain]);
    assert.ok(
      dns.queries.some((query) => query.name === domain && query.type === DNS_TYPE.AAAA),
      'the CA asked for the AAAA record',
    );

    const served = await servedCertificate(running.httpsPort, domain, pebbleRoot);
    assert.equal(served.serialNumber, certificate.details['serialNumber']);
    t.diagnostic(
      `issued over IPv6: serial ${served.serialNumber}; DNS questions: ${dns.queries.map((query) => `${query.name}/${query.type}`).join(', ')}`,
    );
  });
});

describe('edge without ACME', () => {
  it('when no ACME directory is configured, then the development certificate is served and the management port reports it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edge-dev-'));
    writeFileSync(
      join(dir, 'ingress.yaml'),
      'kind: Ingress\nspec: {rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: x, port: {number: 80}}}}]}}]}\n',
    );
    writeFileSync(
      join(dir, 'edge.yml'),
      `edge: {host: 127.0.0.1, httpsPort: 0, httpPort: 0, managementPort: 0, ingressFile: ${join(dir, 'ingress.yaml')}, dataDir: ${join(dir, 'data')}, certificateNames: [localhost], backends: {}}\n`,
    );
    const lines: LogLine[] = [];
    const edge = await startEdgeService(
      loadConfig(edgeConfigSchema, { service: 'edge', env: { CONFIG_LOCATION: join(dir, 'edge.yml') } }),
      recordingLogger(lines),
    );
    try {
      const health = await getJson(`http://127.0.0.1:${edge.managementPort}/actuator/health`);
      assert.equal(health.status, 200);
      assert.equal(health.body['status'], 'UP');
      assert.equal(health.body['components']['certificate']['details']['source'], 'development');
      assert.match(health.body['components']['certificate']['details']['issuer'], /Product landscape development/);
      const unknown = await getJson(`http://127.0.0.1:${edge.managementPort}/actuator/nothing`);
      assertContractError(unknown, 404, 'No route for GET /actuator/nothing', '/actuator/nothing');
      const post = await fetch(`http://127.0.0.1:${edge.managementPort}/actuator/health`, { method: 'POST' });
      assert.equal(post.status, 405);
      assert.ok(!lines.some((line) => line['component'] === 'acme'), 'nothing of ACME runs');
    } finally {
      await edge.close();
    }
  });
});

describe('ACME configuration', () => {
  const load = (env: Record<string, string>) => acmeSettings(loadConfig(edgeConfigSchema, { service: 'edge', env }));

  it("when ACME_DIRECTORY_URL names a Let's Encrypt preset and EDGE_DOMAINS lists names, then those are the settings", () => {
    const staging = load({
      ACME_DIRECTORY_URL: 'letsencrypt-staging',
      EDGE_DOMAINS: 'a.example, B.example',
      ACME_EMAIL: 'ops@example.com',
    });
    assert.equal(staging?.directoryUrl, 'https://acme-staging-v02.api.letsencrypt.org/directory');
    assert.deepEqual(staging?.domains, ['a.example', 'b.example']);
    assert.equal(staging?.email, 'ops@example.com');
    assert.equal(
      load({ ACME_DIRECTORY_URL: 'letsencrypt-production', EDGE_DOMAINS: 'a.example' })?.directoryUrl,
      'https://acme-v02.api.letsencrypt.org/directory',
    );
    assert.equal(
      load({ ACME_DIRECTORY_URL: 'https://ca.example/dir', EDGE_DOMAINS: 'a.example' })?.directoryUrl,
      'https://ca.example/dir',
    );
    assert.equal(load({}), undefined, 'no directory, no ACME');
  });

  it('when the ACME settings are incomplete or wrong, then start-up stops with a message naming the key', () => {
    assert.throws(() => load({ ACME_DIRECTORY_URL: 'letsencrypt-staging' }), /edge\.domains.*EDGE_DOMAINS/);
    assert.throws(() => load({ EDGE_DOMAINS: 'a.example' }), /acme\.directoryUrl.*ACME_DIRECTORY_URL/);
    assert.throws(
      () => load({ ACME_DIRECTORY_URL: 'letsencrypt', EDGE_DOMAINS: 'a.example' }),
      /acme\.directoryUrl: letsencrypt is neither a preset/,
    );
    assert.throws(
      () => load({ ACME_DIRECTORY_URL: 'http://ca.example/dir', EDGE_DOMAINS: 'a.example' }),
      /acme\.directoryUrl: an ACME directory is served over https/,
    );
    assert.throws(
      () => load({ ACME_DIRECTORY_URL: 'letsencrypt-staging', EDGE_DOMAINS: '*.a.example' }),
      /edge\.domains: \*\.a\.example/,
    );
    assert.throws(
      () =>
        load({
          ACME_DIRECTORY_URL: 'letsencrypt-staging',
          EDGE_DOMAINS: 'a.example',
          ACME_CA_FILE: '/nonexistent/ca.pem',
        }),
      /acme\.caFile: cannot read/,
    );
  });
});
