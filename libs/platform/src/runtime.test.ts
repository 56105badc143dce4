import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Type } from '@landscape/vendor/typebox';
import { loadConfig } from './config.ts';
import { Health } from './health.ts';
import { createHttpApp } from './http.ts';
import { createLogger } from './log.ts';
import { messagingConfigSchema } from './messaging/index.ts';
import { serverConfigSchema, startService, type ServiceConfig } from './runtime.ts';

const configRepo = resolve(import.meta.dirname, '../../../config-repo');
const logger = createLogger('runtime-test', 'silent');

/** Whether a TCP connection to that address and port is accepted. */
const reachable = (host: string, port: number) =>
  new Promise<boolean>((done) => {
    const socket = connect({ host, port }, () => {
      socket.destroy();
      done(true);
    });
    socket.on('error', () => done(false));
  });

const emptyConfig = () => mkdtempSync(join(tmpdir(), 'runtime-test-'));

async function startPlain(host: string) {
  const { messaging } = loadConfig(Type.Object({ messaging: messagingConfigSchema }), {
    service: 'plain',
    env: { CONFIG_LOCATION: emptyConfig(), MESSAGING_KIND: 'in-process' },
  });
  const config: ServiceConfig = {
    server: { port: 0, host, shutdownTimeoutMs: 1000 },
    logging: { level: 'silent' },
    messaging,
    metrics: { enabled: true },
    tracing: { enabled: false, sampleRatio: 1, store: { maxTraces: 0, maxSpansPerTrace: 1 } },
  };
  return startService({
    name: 'plain',
    config,
    logger,
    build: () => ({ app: createHttpApp({ logger, health: new Health(), info: {} }) }),
  });
}

const serverHost = (profiles: string) =>
  loadConfig(Type.Object({ server: serverConfigSchema }), {
    service: 'product',
    env: { CONFIG_LOCATION: configRepo, CONFIG_PROFILES: profiles, SERVER_PORT: '1' },
  }).server.host;

describe('where services listen', () => {
  it('when run locally, then the shared configuration binds loopback; in docker or kubernetes, all interfaces', () => {
    assert.equal(serverHost(''), 'localhost');
    assert.equal(serverHost('embedded'), 'localhost');
    assert.equal(serverHost('docker'), '::');
    assert.equal(serverHost('kubernetes,prod'), '::');
  });

  it('when no host is configured, then the default is :: (every interface, both IP versions)', () => {
    const config = loadConfig(Type.Object({ server: serverConfigSchema }), {
      service: 'none',
      env: { CONFIG_LOCATION: emptyConfig(), SERVER_PORT: '1' },
    });
    assert.equal(config.server.host, '::');
  });

  it('when the host is localhost, then loopback clients reach it over IPv4 and IPv6, and other interfaces do not', async () => {
    const service = await startPlain('localhost');
    try {
      assert.equal(await reachable('127.0.0.1', service.port), true, 'IPv4 loopback');
      assert.equal(await reachable('::1', service.port), true, 'IPv6 loopback');
      const outside = Object.values(networkInterfaces())
        .flat()
        .find((i) => i !== undefined && !i.internal && i.family === 'IPv4');
      if (outside) assert.equal(await reachable(outside.address, service.port), false, `not on ${outside.address}`);
      assert.equal((await fetch(`${service.url}/actuator/health/liveness`)).status, 200);
    } finally {
      await service.close();
    }
    assert.equal(await reachable('::1', service.port), false, 'closed on IPv6 too');
  });

  it('when the host is ::, then clients reach it over IPv4 and IPv6 (dual-stack, not IPv6 only)', async () => {
    const service = await startPlain('::');
    try {
      assert.equal(await reachable('127.0.0.1', service.port), true);
      assert.equal(await reachable('::1', service.port), true);
    } finally {
      await service.close();
    }
  });
});

describe('what a service is given', () => {
  const withoutMessaging = (): ServiceConfig => ({
    server: { port: 0, host: '127.0.0.1', shutdownTimeoutMs: 1000 },
    logging: { level: 'silent' },
    metrics: { enabled: true },
    tracing: { enabled: false, sampleRatio: 1, store: { maxTraces: 0, maxSpansPerTrace: 1 } },
  });

  it('when its configuration has no messaging section, then it gets no bus and its readiness does not wait for one', async () => {
    let given: Record<string, unknown> = {};
    const service = await startService({
      name: 'quiet',
      config: withoutMessaging(),
      logger,
      build: (deps) => {
        given = deps as unknown as Record<string, unknown>;
        return { app: createHttpApp({ logger, health: deps.health, info: {} }) };
      },
    });
    try {
      assert.equal(given['bus'], undefined);
      assert.equal(given['database'], undefined);
      const answer = await fetch(`${service.url}/actuator/health/readiness`);
      assert.equal(answer.status, 200);
      const health = (await (await fetch(`${service.url}/actuator/health`)).json()) as { components?: object };
      assert.equal(Object.keys(health.components ?? {}).includes('messaging'), false);
    } finally {
      await service.close();
    }
  });

  it('when it consumes events but has no messaging section, then start-up fails naming the service', async () => {
    await assert.rejects(
      startService({
        name: 'listener',
        config: withoutMessaging(),
        logger,
        build: (deps) => ({
          app: createHttpApp({ logger, health: deps.health, info: {} }),
          subscriptions: [{ destination: 'things', group: 'thingsGroup', handler: async () => undefined }],
        }),
      }),
      /listener consumes events but has no messaging configuration/,
    );
  });
});

/** How a child process's script begins: it imports runUntilSignal and createLogger from this folder. */
const importRuntime = `
  const { runUntilSignal } = await import(${JSON.stringify(resolve(import.meta.dirname, 'runtime.ts'))});
  const { createLogger } = await import(${JSON.stringify(resolve(import.meta.dirname, 'log.ts'))});`;

describe('a service process under a supervisor', () => {
  it('when the supervisor goes away (its IPC channel closes), then the service shuts down cleanly instead of living on', {
    timeout: 20000,
  }, async () => {
    const code = `
      ${importRuntime}
      const keepAlive = setInterval(() => undefined, 1000);
      await runUntilSignal(createLogger('child', 'silent'), async () => ({
        services: [{ close: async () => { clearInterval(keepAlive); process.stdout.write('closed'); } }], shutdownTimeoutMs: 5000,
      }));
      process.send('ready');`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    await new Promise<void>((ready, fail) => {
      child.once('message', () => ready());
      child.once('exit', (c) => fail(new Error(`exited with ${c}`)));
    });
    const exited = new Promise<number | null>((done) => child.once('exit', (c) => done(c)));
    child.disconnect();
    assert.equal(await exited, 0);
    assert.equal(output, 'closed');
  });
});

describe('a service process once started', () => {
  it('when start-up leaves garbage behind, then a full collection returns it before the process serves on', {
    timeout: 20000,
  }, async () => {
    // About 40 MiB of small objects, live until start() returns and garbage from then on.
    const code = `
      ${importRuntime}
      let during = 0;
      await runUntilSignal(createLogger('child', 'silent'), async () => {
        const parsed = Array.from({ length: 400000 }, (_, i) => ({ i, text: 'start-up ' + i }));
        during = parsed.length && process.memoryUsage().heapUsed;
        return { services: [], shutdownTimeoutMs: 1000 };
      });
      process.stdout.write(JSON.stringify({ during, after: process.memoryUsage().heapUsed }));
      process.exit(0);`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', code]);
    const { during, after } = JSON.parse(stdout) as { during: number; after: number };
    const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
    assert.ok(during - after > 20 * 2 ** 20, `heap used during start-up ${mib(during)}, after ${mib(after)}`);
  });
});
