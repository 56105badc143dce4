// Starts each service of the dev overlay as a process with the environment its pod gets (env, envFrom,
// the mounted config files) against this machine's PostgreSQL, MariaDB and RabbitMQ, and checks the
// pod's probes against it: ready within the startup budget, then a graceful stop on SIGTERM.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { eventually, freePort } from '@landscape/platform/testing';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import {
  baseName,
  decodeSecret,
  find,
  render,
  repoRoot,
  serviceDeployments,
  services,
  stageTree,
  type K8sObject,
} from './render.ts';

/**
 * The only ways these processes differ from the pods. Each Secret the pod imports brings the in-cluster
 * host name and credentials; here the same keys point at this machine's servers (the names postgres,
 * mysql and rabbitmq do not resolve here) with their development users.
 */
const localServers: Record<string, Record<string, string>> = {
  'postgres-credentials': { DATABASE_HOST: '127.0.0.1', DATABASE_USERNAME: 'postgres', DATABASE_PASSWORD: '' },
  'mysql-credentials': { DATABASE_HOST: '127.0.0.1', DATABASE_USERNAME: 'root', DATABASE_PASSWORD: '' },
  'rabbitmq-credentials': {
    MESSAGING_RABBITMQ_HOST: '127.0.0.1',
    MESSAGING_RABBITMQ_USERNAME: 'guest',
    MESSAGING_RABBITMQ_PASSWORD: 'guest',
  },
  // What deploy-dev-env.sh writes in place of the example's __RANDOM__.
  'auth-server-credentials': { AUTH_COOKIES_KEYS: 'pod-contract-cookie-key-0123456789' },
};
// Besides: SERVER_PORT is a free port (the container port 80 needs privileges here), and every env
// value naming a path under a volume mount names the temporary folder standing in for that volume.

/** What the image itself sets (Dockerfile: ENV SERVICE, WORKDIR mirrors the repository root). */
const imageEnv = (service: string) => ({ SERVICE: service });

const tree = stageTree();
const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) child.kill('SIGKILL');
  tree.remove();
});

let rendered: K8sObject[] | undefined;
/** Rendered on first use, so a manifest that does not render fails the tests instead of the file. */
function devOverlay(): K8sObject[] {
  rendered ??= render(tree, 'overlays/dev');
  return rendered;
}

function dataOf(kind: string, name: string): Record<string, string> {
  const object = find<K8sObject & { data?: Record<string, string> }>(devOverlay(), kind, name);
  assert.ok(object, `the dev overlay renders no ${kind} ${name}`);
  return kind === 'Secret' ? decodeSecret(object) : (object.data ?? {});
}

/** The container's environment as Kubernetes assembles it: envFrom in order, then env. */
function containerEnv(container: IContainer): { env: Record<string, string>; secrets: string[] } {
  const env: Record<string, string> = {};
  const secrets: string[] = [];
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) Object.assign(env, dataOf('ConfigMap', source.configMapRef.name ?? ''));
    if (source.secretRef) {
      Object.assign(env, dataOf('Secret', source.secretRef.name ?? ''));
      secrets.push(source.secretRef.name ?? '');
    }
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    const ref = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
    if (ref) {
      const value = dataOf(e.valueFrom?.secretKeyRef ? 'Secret' : 'ConfigMap', ref.name ?? '')[ref.key];
      assert.ok(value !== undefined, `env ${e.name}: no key ${ref.key} in ${ref.name}`);
      env[e.name] = value;
    }
  }
  return { env, secrets };
}

/** A folder per volume mount: ConfigMap volumes get their files written, emptyDirs stay empty. */
function standInVolumes(spec: IPodSpec, container: IContainer, root: string): Map<string, string> {
  const mounts = new Map<string, string>();
  for (const mount of container.volumeMounts ?? []) {
    const volume = (spec.volumes ?? []).find((v) => v.name === mount.name);
    assert.ok(volume, `no volume ${mount.name}`);
    const folder = join(root, mount.name);
    mkdirSync(folder, { recursive: true });
    if (volume.configMap) {
      const data = dataOf('ConfigMap', volume.configMap.name ?? '');
      const items = volume.configMap.items ?? Object.keys(data).map((key) => ({ key, path: key }));
      for (const item of items) writeFileSync(join(folder, item.path), data[item.key] ?? '');
    } else {
      assert.ok(volume.emptyDir, `${mount.name}: only ConfigMap and emptyDir volumes are stood in for`);
    }
    mounts.set(mount.mountPath, folder);
  }
  return mounts;
}

function rewritePaths(env: Record<string, string>, mounts: Map<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([key, value]) => {
      for (const [mountPath, folder] of mounts) {
        if (value === mountPath || value.startsWith(`${mountPath}/`))
          return [key, folder + value.slice(mountPath.length)];
      }
      return [key, value];
    }),
  );
}

const seconds = (n: number | undefined, fallback: number) => (n ?? fallback) * 1000;

function parseQuantity(quantity: string | number | undefined): number {
  const match = /^(\d+)(Ki|Mi|Gi)?$/.exec(String(quantity ?? ''));
  assert.ok(match, `memory quantity ${String(quantity)}`);
  const unit = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[match[2] as 'Ki' | 'Mi' | 'Gi'] ?? 1;
  return Number(match[1]) * unit;
}

async function status(url: string): Promise<number | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return undefined;
  }
}

describe('pods of the dev overlay, run as processes', { concurrency: true }, () => {
  for (const name of services) {
    test(`when ${name} starts with its pod's environment, then its readiness probe answers 200 within the startup budget and SIGTERM stops it cleanly`, async (t) => {
      const deployment = serviceDeployments(devOverlay()).find((d) => d.metadata.name === name);
      assert.ok(deployment, `the dev overlay has no Deployment ${name}`);
      const spec = deployment.spec?.template.spec as IPodSpec;
      const [container] = spec.containers;
      assert.ok(container);
      const image = container.image ?? '';
      const service = /^(?:docker\.io\/)?landscape\/([a-z-]+):/.exec(image)?.[1];
      assert.equal(service, name, `image ${image}`);

      const { env: podEnv, secrets } = containerEnv(container);
      const mounts = standInVolumes(spec, container, join(tree.root, 'volumes', name));
      const port = await freePort();
      const env: Record<string, string> = {
        ...imageEnv(name),
        ...rewritePaths(podEnv, mounts),
        ...(Object.assign({}, ...secrets.map((s) => localServers[baseName(s)] ?? {})) as Record<string, string>),
        SERVER_PORT: String(port),
      };
      assert.ok(
        env['CONFIG_LOCATION']?.startsWith(tree.root),
        `CONFIG_LOCATION ${env['CONFIG_LOCATION']} is a mounted folder`,
      );

      const output: string[] = [];
      const child = spawn(process.execPath, [`services/${name}/src/main.ts`], {
        cwd: repoRoot,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.add(child);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      let exitCode: number | null | undefined;
      void exited.then((code) => (exitCode = code));
      for (const stream of [child.stdout, child.stderr])
        stream.on('data', (chunk: Buffer) => output.push(chunk.toString()));
      const log = () => output.join('').slice(-3000);

      const probe = (path: string | undefined) => `http://127.0.0.1:${port}${path ?? ''}`;
      const startup = container.startupProbe;
      const budget =
        seconds(startup?.initialDelaySeconds, 0) +
        (startup?.failureThreshold ?? 3) * seconds(startup?.periodSeconds, 10);
      let readiness: number | undefined;
      // A timeout falls through to the assertions below, which report it with the service's log.
      await eventually(
        async () => {
          readiness = await status(probe(container.readinessProbe?.httpGet?.path));
          // 404: the service listens but has no such route, which no amount of waiting changes.
          return exitCode !== undefined || readiness === 200 || readiness === 404;
        },
        { timeoutMs: budget, intervalMs: 200 },
      ).catch(() => undefined);
      assert.equal(exitCode, undefined, `${name} exited (${String(exitCode)}) before it was ready:\n${log()}`);
      assert.equal(readiness, 200, `${name} not ready within the startup probe's ${budget / 1000}s:\n${log()}`);
      assert.equal(await status(probe(container.livenessProbe?.httpGet?.path)), 200, 'liveness');
      assert.equal(await status(probe(startup?.httpGet?.path)), 200, 'startup');

      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
      const limit = parseQuantity(container.resources?.limits?.['memory']);
      t.diagnostic(`${name}: VmRSS ${Math.round(Number(rss) / 1024)} MiB when ready (limit ${limit / 1024 ** 2} MiB)`);
      assert.ok(Number(rss) * 1024 < limit, `${name} uses more memory than its limit`);

      child.kill('SIGTERM');
      const grace = seconds(spec.terminationGracePeriodSeconds, 30);
      const code = await Promise.race([
        exited,
        // The grace period is the deadline the service under test must stop within, not a wait for it.
        new Promise<'timeout'>((resolve) => setTimeout(resolve, grace, 'timeout').unref()),
      ]);
      children.delete(child);
      assert.equal(code, 0, `${name} did not stop cleanly within the grace period (${String(code)}):\n${log()}`);
    });
  }
});
