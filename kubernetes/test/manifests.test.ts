import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { Type } from '@landscape/vendor/typebox';
import { loadConfig, serverConfigSchema, tlsConfigSchema } from '@landscape/platform';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import { address, connectionAllowed, pod, podsOf, type Endpoint } from './network.ts';
import {
  baseName,
  byKind,
  createdByDeployScript,
  deprecatedApiVersions,
  find,
  kubernetesDir,
  kustomizationDirs,
  labelsMatch,
  namespace,
  readKustomization,
  readYamlDocuments,
  renderer,
  repoRoot,
  serviceDeployments,
  services,
  stageTree,
  validateObject,
  type DeploymentObject,
  type K8sObject,
} from './render.ts';

/** The routes every service serves for its probes (libs/platform/src/http.ts). */
const actuatorRoutes = [
  '/actuator/health',
  '/actuator/health/liveness',
  '/actuator/health/readiness',
  '/actuator/info',
];

/** Kustomizations meant to be applied (the base alone lacks credentials; components need an includer). */
const deployable = [
  'overlays/dev',
  'overlays/dev/certificate',
  'overlays/prod',
  'overlays/dev-gateway',
  'overlays/prod-gateway',
  // The overlays with the observability components, as a cluster with a collector (and the Prometheus operator) applies them.
  'test/kustomizations/dev-observability',
  'test/kustomizations/prod-observability',
];
const withLandscape = deployable.filter((dir) => dir !== 'overlays/dev/certificate');

const tree = stageTree();
after(() => tree.remove());

const rendered = renderer(tree);

const allKustomizations = kustomizationDirs(kubernetesDir);
const components = allKustomizations.filter(
  (dir) => readKustomization(join(kubernetesDir, dir))['kind'] === 'Component',
);
const renderable = allKustomizations.filter((dir) => !components.includes(dir));

const podSpec = (d: DeploymentObject): IPodSpec => d.spec?.template.spec as IPodSpec;
const containersOf = (d: DeploymentObject): IContainer[] => [
  ...(podSpec(d).initContainers ?? []),
  ...podSpec(d).containers,
];

/** Runs `check` for every item and fails once, listing every problem found. */
function expectNoProblems<T>(items: Iterable<T>, check: (item: T) => string[]): void {
  const problems = [...items].flatMap(check);
  assert.deepEqual(problems, []);
}

describe('kustomizations', () => {
  test('when every kustomization under kubernetes/ is rendered with kubectl kustomize, then each renders', () => {
    assert.ok(
      renderable.includes('base') && renderable.includes('overlays/dev') && renderable.includes('overlays/prod'),
    );
    expectNoProblems(renderable, (dir) => {
      try {
        return rendered(dir).length > 0 ? [] : [`${dir}: renders nothing`];
      } catch (error) {
        return [`${dir}: ${(error as Error).message}`];
      }
    });
  });

  test('when a component exists, then a rendered kustomization includes it', () => {
    assert.deepEqual(components.sort(), [
      'components/gateway-api',
      'components/ingress-nginx',
      'components/letsencrypt',
      'components/observability',
      'components/prometheus-operator',
    ]);
    const included = new Set(
      renderable.flatMap((dir) => {
        const list = (readKustomization(join(kubernetesDir, dir))['components'] ?? []) as string[];
        return list.map((c) => relative(kubernetesDir, resolve(kubernetesDir, dir, c)));
      }),
    );
    for (const component of components)
      assert.ok(included.has(component), `${component} is not included by any kustomization`);
  });

  test('when the kustomization files are read, then none uses a deprecated field', () => {
    const deprecated = ['commonLabels', 'bases', 'patchesStrategicMerge', 'patchesJson6902', 'vars', 'imageTags'];
    const folders = [...allKustomizations.map((dir) => join(kubernetesDir, dir)), join(repoRoot, 'config-repo')];
    expectNoProblems(
      folders.filter((f) => existsSync(join(f, 'kustomization.yaml'))),
      (folder) => {
        const k = readKustomization(folder);
        const where = relative(repoRoot, folder);
        const problems = deprecated.filter((field) => field in k).map((field) => `${where}: ${field}`);
        const expected =
          k['kind'] === 'Component' ? 'kustomize.config.k8s.io/v1alpha1' : 'kustomize.config.k8s.io/v1beta1';
        if (k['apiVersion'] !== expected)
          problems.push(`${where}: apiVersion ${String(k['apiVersion'])}, expected ${expected}`);
        return problems;
      },
    );
  });

  test('when config-repo is packaged for the cluster, then its kustomization generates config-repo from application.yml and every service file', () => {
    const folder = join(repoRoot, 'config-repo');
    assert.ok(
      existsSync(join(folder, 'kustomization.yaml')),
      'config-repo/kustomization.yaml is missing: kubernetes/base includes config-repo/ as a kustomization (see kubernetes/README.md, "Configuration")',
    );
    const generators = (readKustomization(folder)['configMapGenerator'] ?? []) as Array<{
      name: string;
      files?: string[];
    }>;
    const files = generators.find((g) => g.name === 'config-repo')?.files ?? [];
    for (const name of ['application.yml', ...services.map((s) => `${s}.yml`)]) {
      assert.ok(files.includes(name), `config-repo/kustomization.yaml does not list ${name}`);
    }
    for (const name of files)
      assert.ok(existsSync(join(folder, name)), `config-repo/kustomization.yaml lists ${name}, which does not exist`);
  });
});

describe('rendered objects', () => {
  test('when the objects are validated against the Kubernetes, cert-manager and Gateway API schemas, then every one is valid and of a known kind', () => {
    expectNoProblems(renderable, (dir) =>
      rendered(dir).flatMap((object) => {
        try {
          validateObject(object);
          return [];
        } catch (error) {
          return [`${dir}: ${(error as Error).message}`];
        }
      }),
    );
  });

  test('when the API versions are listed, then none is removed or deprecated', () => {
    expectNoProblems(renderable, (dir) =>
      rendered(dir)
        .filter((o) => deprecatedApiVersions.includes(o.apiVersion) || /\/v\d+(alpha|beta)\d+$/.test(o.apiVersion))
        .map((o) => `${dir}: ${o.kind} ${o.metadata.name} uses ${o.apiVersion}`),
    );
  });

  test('when an overlay is rendered, then every object is in namespace hands-on, which enforces the restricted Pod Security profile', () => {
    expectNoProblems(deployable, (dir) =>
      rendered(dir)
        .filter((o) => o.kind !== 'Namespace' && o.metadata.namespace !== namespace)
        .map((o) => `${dir}: ${o.kind} ${o.metadata.name} is in ${o.metadata.namespace ?? '(no namespace)'}`),
    );
    for (const dir of withLandscape) {
      const ns = find(rendered(dir), 'Namespace', namespace);
      assert.equal(ns?.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted', dir);
    }
  });
});

describe('pods', () => {
  const everyContainer = () =>
    withLandscape.flatMap((dir) => byKind<DeploymentObject>(rendered(dir), 'Deployment').map((d) => ({ dir, d })));

  test('when any container is inspected, then it runs with the restricted security context', () => {
    expectNoProblems(everyContainer(), ({ dir, d }) => {
      const spec = podSpec(d);
      const at = `${dir}: ${d.metadata.name}`;
      const problems: string[] = [];
      if (spec.hostNetwork || spec.hostPID || spec.hostIPC) problems.push(`${at}: shares a host namespace`);
      if ((spec.volumes ?? []).some((v) => v.hostPath)) problems.push(`${at}: mounts a hostPath`);
      if (spec.automountServiceAccountToken !== false)
        problems.push(`${at}: mounts a service account token it does not use`);
      for (const c of containersOf(d)) {
        const sc = c.securityContext ?? {};
        const pod = spec.securityContext ?? {};
        const where = `${at}/${c.name}`;
        if ((sc.runAsNonRoot ?? pod.runAsNonRoot) !== true) problems.push(`${where}: runAsNonRoot is not true`);
        const user = sc.runAsUser ?? pod.runAsUser;
        if (typeof user !== 'number' || user === 0) problems.push(`${where}: runAsUser is not a numeric non-root user`);
        if (sc.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation is not false`);
        if (sc.privileged) problems.push(`${where}: privileged`);
        if (!(sc.capabilities?.drop ?? []).includes('ALL')) problems.push(`${where}: capabilities do not drop ALL`);
        if ((sc.capabilities?.add ?? []).length > 0) problems.push(`${where}: adds capabilities`);
        if ((sc.seccompProfile ?? pod.seccompProfile)?.type !== 'RuntimeDefault')
          problems.push(`${where}: seccompProfile is not RuntimeDefault`);
        if (sc.readOnlyRootFilesystem !== true) problems.push(`${where}: root filesystem is writable`);
        const tmp = (c.volumeMounts ?? []).find((m) => m.mountPath === '/tmp');
        if (!tmp || !(spec.volumes ?? []).some((v) => v.name === tmp.name && v.emptyDir))
          problems.push(`${where}: no emptyDir at /tmp`);
      }
      return problems;
    });
  });

  test('when any container is inspected, then it has liveness, readiness and startup probes, requests and limits', () => {
    expectNoProblems(everyContainer(), ({ dir, d }) =>
      podSpec(d).containers.flatMap((c) => {
        const where = `${dir}: ${d.metadata.name}/${c.name}`;
        const problems = (['livenessProbe', 'readinessProbe', 'startupProbe'] as const)
          .filter((p) => !c[p])
          .map((p) => `${where}: no ${p}`);
        for (const kind of ['requests', 'limits'] as const) {
          for (const resource of ['cpu', 'memory']) {
            if (c.resources?.[kind]?.[resource] === undefined) problems.push(`${where}: no ${resource} ${kind}`);
          }
        }
        return problems;
      }),
    );
  });

  test('when a service pod is inspected, then its probes ask the actuator routes on its http port and it stops gracefully', () => {
    for (const dir of withLandscape) {
      const deployments = serviceDeployments(rendered(dir));
      assert.deepEqual(deployments.map((d) => d.metadata.name).sort(), [...services].sort(), dir);
      for (const d of deployments) {
        const where = `${dir}: ${d.metadata.name}`;
        const [container] = podSpec(d).containers;
        assert.ok(container, where);
        const probes: Array<[string, IProbe | undefined, string]> = [
          ['livenessProbe', container.livenessProbe, '/actuator/health/liveness'],
          ['readinessProbe', container.readinessProbe, '/actuator/health/readiness'],
          ['startupProbe', container.startupProbe, '/actuator/health/liveness'],
        ];
        for (const [name, probe, path] of probes) {
          assert.equal(probe?.httpGet?.path, path, `${where}: ${name} path`);
          assert.ok(actuatorRoutes.includes(path), `${where}: ${path} is not a route the service serves`);
          const port = probe.httpGet.port;
          assert.ok(
            (container.ports ?? []).some((p) => p.name === port || p.containerPort === port),
            `${where}: ${name} port ${String(port)} is no container port`,
          );
        }
        const preStop = container.lifecycle?.preStop?.sleep?.seconds ?? 0;
        assert.ok(preStop > 0, `${where}: no preStop sleep`);
        // The process's own shutdown budget (config-repo, with the pod's profiles) must fit in the grace period.
        const config = loadConfig(Type.Object({ server: serverConfigSchema }), {
          service: d.metadata.name,
          env: { CONFIG_LOCATION: join(repoRoot, 'config-repo'), CONFIG_PROFILES: profilesOf(dir) },
        });
        const grace = podSpec(d).terminationGracePeriodSeconds ?? 30;
        assert.ok(
          preStop + config.server.shutdownTimeoutMs / 1000 < grace,
          `${where}: preStop ${preStop}s + shutdown ${config.server.shutdownTimeoutMs}ms do not fit in ${grace}s`,
        );
        assert.equal(config.server.port, 80, `${where}: config-repo's kubernetes profile should give port 80`);
        assert.ok(
          (container.ports ?? []).some((p) => p.name === 'http' && p.containerPort === config.server.port),
          `${where}: container port http is not server.port`,
        );
      }
    }
  });

  test("when a readiness probe asks, then it waits longer than the service's own readiness checks take", () => {
    const health = readFileSync(join(repoRoot, 'libs/platform/src/health.ts'), 'utf8');
    const checkTimeoutMs = Number(/const CHECK_TIMEOUT_MS = (\d+);/.exec(health)?.[1]);
    assert.ok(checkTimeoutMs > 0, 'CHECK_TIMEOUT_MS found in health.ts');
    expectNoProblems(withLandscape, (dir) =>
      serviceDeployments(rendered(dir))
        .filter((d) => (podSpec(d).containers[0]?.readinessProbe?.timeoutSeconds ?? 1) * 1000 <= checkTimeoutMs)
        .map((d) => `${dir}: ${d.metadata.name} readiness timeout is not above ${checkTimeoutMs} ms`),
    );
  });

  test('when a service pod runs, then it has a ServiceAccount of its own that mounts no API token', () => {
    expectNoProblems(withLandscape, (dir) => {
      const objects = rendered(dir);
      return serviceDeployments(objects).flatMap((d) => {
        const account = find<{ automountServiceAccountToken?: boolean } & K8sObject>(
          objects,
          'ServiceAccount',
          d.metadata.name,
        );
        const problems: string[] = [];
        if (podSpec(d).serviceAccountName !== d.metadata.name)
          problems.push(`${dir}: ${d.metadata.name} runs as ${podSpec(d).serviceAccountName ?? 'default'}`);
        if (account?.automountServiceAccountToken !== false)
          problems.push(`${dir}: ServiceAccount ${d.metadata.name} missing or mounting its token`);
        if (podSpec(d).automountServiceAccountToken !== false)
          problems.push(`${dir}: ${d.metadata.name} mounts a token`);
        return problems;
      });
    });
  });

  test('when images are named, then dev runs the version npm run images builds and prod pins a registry tag', () => {
    const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
    for (const d of serviceDeployments(rendered('base'))) {
      assert.equal(
        podSpec(d).containers[0]?.image,
        `landscape/${d.metadata.name}:${version}`,
        `base: ${d.metadata.name}`,
      );
    }
    // The locally built image, registry-qualified as Docker stores it, and never pulled: a missing
    // build fails (ErrImageNeverPull) instead of running whatever a public registry has by that name.
    for (const dir of ['overlays/dev', 'overlays/dev-gateway']) {
      for (const d of serviceDeployments(rendered(dir))) {
        assert.equal(
          podSpec(d).containers[0]?.image,
          `docker.io/landscape/${d.metadata.name}:${version}`,
          `${dir}: ${d.metadata.name}`,
        );
        assert.equal(podSpec(d).containers[0]?.imagePullPolicy, 'Never', `${dir}: ${d.metadata.name}`);
      }
    }
    for (const d of serviceDeployments(rendered('overlays/prod'))) {
      const image = podSpec(d).containers[0]?.image ?? '';
      assert.match(
        image,
        new RegExp(`^[a-z0-9.-]+(:\\d+)?/.+/${d.metadata.name}(:\\d+\\.\\d+\\.\\d+|@sha256:[0-9a-f]{64})$`),
        `prod: ${d.metadata.name}`,
      );
    }
    for (const d of byKind<DeploymentObject>(rendered('overlays/dev'), 'Deployment')) {
      for (const c of podSpec(d).containers)
        assert.match(c.image ?? '', /:[0-9][\w.-]*$/, `dev: ${d.metadata.name} image tag is not a pinned version`);
    }
  });

  test('when prod is rendered, then every service has two replicas, a disruption budget, the prod profile and managed backends', () => {
    const objects = rendered('overlays/prod');
    const autoscalers = byKind<
      {
        spec: { scaleTargetRef: { kind: string; name: string }; minReplicas?: number; maxReplicas: number };
      } & K8sObject
    >(objects, 'HorizontalPodAutoscaler');
    assert.deepEqual(
      autoscalers.map((h) => `${h.apiVersion} ${h.spec.scaleTargetRef.kind}/${h.spec.scaleTargetRef.name}`),
      ['autoscaling/v2 Deployment/product-composite'],
    );
    for (const d of serviceDeployments(objects)) {
      const autoscaler = autoscalers.find((h) => h.spec.scaleTargetRef.name === d.metadata.name);
      if (autoscaler) {
        // A replicas field would reset the autoscaler's choice on every apply.
        assert.equal(d.spec?.replicas, undefined, `${d.metadata.name}: replicas left to the autoscaler`);
        assert.equal(autoscaler.spec.minReplicas, 2, d.metadata.name);
        assert.ok(autoscaler.spec.maxReplicas > 2, d.metadata.name);
      } else {
        assert.equal(d.spec?.replicas, 2, d.metadata.name);
      }
      const labels = d.spec?.template.metadata?.labels ?? {};
      const budgets = byKind<
        { spec: { minAvailable?: number; selector: Parameters<typeof labelsMatch>[0] } } & K8sObject
      >(objects, 'PodDisruptionBudget').filter((pdb) => labelsMatch(pdb.spec.selector, labels));
      assert.equal(budgets.length, 1, `${d.metadata.name}: disruption budgets`);
      assert.ok((budgets[0]?.spec.minAvailable ?? 0) < 2, `${d.metadata.name}: the budget would block every eviction`);
    }
    assert.equal(profilesOf('overlays/prod'), 'kubernetes,prod');
    assert.equal(profilesOf('overlays/dev'), 'kubernetes');
    // The managed servers' real names, which their certificates carry: an ExternalName alias would
    // fail the TLS host name check.
    const settings = {
      postgres: 'postgres.managed.example.org',
      mysql: 'mysql.managed.example.org',
      rabbitmq: 'rabbitmq.managed.example.org',
    };
    const envOf = (name: string, key: string) =>
      find<DeploymentObject>(objects, 'Deployment', name)?.spec?.template.spec?.containers[0]?.env?.find(
        (e) => e.name === key,
      )?.value;
    for (const name of ['product', 'recommendation'])
      assert.equal(envOf(name, 'DATABASE_HOST'), settings.postgres, name);
    assert.equal(envOf('review', 'DATABASE_HOST'), settings.mysql);
    for (const name of ['product', 'recommendation', 'review', 'product-composite'])
      assert.equal(envOf(name, 'MESSAGING_RABBITMQ_HOST'), settings.rabbitmq, name);
    for (const name of ['postgres', 'mysql', 'rabbitmq']) {
      assert.equal(find(objects, 'Service', name), undefined, `prod has no ${name} alias`);
      assert.equal(find(objects, 'Deployment', name), undefined, `prod runs no ${name} of its own`);
    }
  });
});

/** CONFIG_PROFILES of the landscape-env ConfigMap an overlay renders. */
function profilesOf(dir: string): string {
  const env = byKind<{ data: Record<string, string> } & K8sObject>(rendered(dir), 'ConfigMap').find(
    (c) => baseName(c.metadata.name) === 'landscape-env',
  );
  return env?.data['CONFIG_PROFILES'] ?? '';
}

describe('credentials', () => {
  /** Keys and env names that hold credentials: a password, secret, token, key set or private key. */
  const credentialKey = /(pass(word)?s?|secrets?|tokens?|jwks|private_?key|credentials?)$/i;
  /** Switches whose names only look like credentials. */
  const notCredentials = ['MYSQL_RANDOM_ROOT_PASSWORD'];

  test('when config-repo is read, then it holds no credentials', () => {
    const folder = join(repoRoot, 'config-repo');
    const problems: string[] = [];
    const walk = (value: unknown, path: string, file: string) => {
      if (typeof value !== 'object' || value === null) return;
      for (const [key, child] of Object.entries(value)) {
        const at = path ? `${path}.${key}` : key;
        const scalar = typeof child === 'string' || typeof child === 'number';
        if (credentialKey.test(key) && scalar && String(child) !== '') problems.push(`${file}: ${at} holds a value`);
        walk(child, at, file);
      }
    };
    for (const file of readdirSync(folder).filter((f) => /\.ya?ml$/.test(f))) {
      const text = readFileSync(join(folder, file), 'utf8');
      if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) problems.push(`${file}: holds a private key`);
      for (const doc of readYamlDocuments(text, file)) walk(doc, '', file);
    }
    assert.deepEqual(problems, []);
  });

  test('when Secrets are rendered, then each comes from a secretGenerator over git-ignored env files with committed examples', () => {
    const generators = new Map<string, string[]>();
    const problems: string[] = [];
    for (const dir of allKustomizations) {
      for (const g of (readKustomization(join(kubernetesDir, dir))['secretGenerator'] ?? []) as Array<
        Record<string, unknown>
      >) {
        const where = `${dir}: secretGenerator ${String(g['name'])}`;
        if (g['literals'] !== undefined || g['files'] !== undefined) problems.push(`${where}: literals or files`);
        for (const env of (g['envs'] ?? []) as string[]) {
          const file = relative(repoRoot, join(kubernetesDir, dir, env));
          if (!gitIgnored(file)) problems.push(`${where}: ${file} is not git-ignored`);
          if (!existsSync(join(repoRoot, `${file}.example`)) || gitIgnored(`${file}.example`))
            problems.push(`${where}: no committed ${file}.example`);
        }
        generators.set(String(g['name']), [...(generators.get(String(g['name'])) ?? []), dir]);
      }
    }
    for (const dir of renderable) {
      for (const secret of byKind(rendered(dir), 'Secret')) {
        if (
          !generators.has(baseName(secret.metadata.name)) ||
          secret.metadata.name === baseName(secret.metadata.name)
        ) {
          problems.push(`${dir}: Secret ${secret.metadata.name} is not generated from env files`);
        }
      }
    }
    for (const dir of allKustomizations) {
      for (const file of readdirSync(join(kubernetesDir, dir)).filter(
        (f) => f.endsWith('.yaml') && f !== 'kustomization.yaml',
      )) {
        if (/^kind:\s*Secret\s*$/m.test(readFileSync(join(kubernetesDir, dir, file), 'utf8')))
          problems.push(`${dir}/${file}: a Secret written out`);
      }
    }
    assert.deepEqual(problems, []);
  });

  test('when the example env files are read, then passwords are placeholders the deploy scripts or operators replace', () => {
    const problems: string[] = [];
    for (const [overlay, placeholder] of [
      ['dev', '__RANDOM__'],
      ['prod', '__SET_ME__'],
    ] as const) {
      const folder = join(kubernetesDir, 'overlays', overlay, 'secrets');
      for (const file of readdirSync(folder).filter((f) => f.endsWith('.env.example'))) {
        for (const line of readFileSync(join(folder, file), 'utf8').split('\n')) {
          const [key = '', ...rest] = line.split('=');
          if (line.startsWith('#') || rest.length === 0) continue;
          // The auth server's development clients and user are the walkthrough's well-known ones.
          if (overlay === 'dev' && file === 'auth-server.env.example') continue;
          if (/PASSWORD|SECRET|JWKS/.test(key) && rest.join('=') !== placeholder && rest.join('=') !== '{}')
            problems.push(`${overlay}/${file}: ${key}`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  test('when pods and ConfigMaps are rendered, then no credential is written into them', () => {
    expectNoProblems(renderable, (dir) => {
      const objects = rendered(dir);
      const problems = byKind<DeploymentObject>(objects, 'Deployment').flatMap((d) =>
        containersOf(d).flatMap((c) =>
          (c.env ?? [])
            .filter((e) => e.value !== undefined && credentialKey.test(e.name) && !notCredentials.includes(e.name))
            .map((e) => `${dir}: ${d.metadata.name}/${c.name} env ${e.name} has a literal value`),
        ),
      );
      for (const cm of byKind<{ data?: Record<string, string> } & K8sObject>(objects, 'ConfigMap')) {
        for (const [key, value] of Object.entries(cm.data ?? {})) {
          if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(value))
            problems.push(`${dir}: ConfigMap ${cm.metadata.name} ${key} holds a private key`);
        }
      }
      return problems;
    });
  });
});

function gitIgnored(path: string): boolean {
  const result = spawnSync('git', ['check-ignore', '--quiet', path], { cwd: repoRoot });
  if (result.error) throw new Error(`git is required for this test: ${result.error.message}`);
  return result.status === 0;
}

describe("the managed servers' CA bundle", () => {
  /** The TLS settings a prod pod's configuration ends up with, from config-repo and its environment. */
  const tlsSchema = Type.Object({
    database: Type.Optional(Type.Object({ tls: Type.Optional(tlsConfigSchema) })),
    messaging: Type.Object({ rabbitmq: Type.Optional(Type.Object({ tls: Type.Optional(tlsConfigSchema) })) }),
  });

  for (const dir of ['overlays/prod', 'overlays/prod-gateway']) {
    test(`when ${dir} is deployed, then every pod that connects to a managed server verifies it against the mounted CA bundle`, () => {
      const objects = rendered(dir);
      expectNoProblems(serviceDeployments(objects), (deployment) => {
        const name = deployment.metadata.name;
        const [container] = podSpec(deployment).containers;
        if (!container) return [`${name}: no container`];
        const secrets = (container.envFrom ?? []).map((source) => baseName(source.secretRef?.name ?? ''));
        const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? '']));
        const uses = {
          DATABASE_TLS_CA_FILE: secrets.includes('postgres-credentials') || secrets.includes('mysql-credentials'),
          MESSAGING_RABBITMQ_TLS_CA_FILE: secrets.includes('rabbitmq-credentials'),
        };
        const problems: string[] = [];
        for (const [variable, connects] of Object.entries(uses)) {
          if (!connects) continue;
          const file = env[variable];
          if (!file) {
            problems.push(`${name}: connects to a managed server but sets no ${variable}`);
            continue;
          }
          const mount = (container.volumeMounts ?? []).find((m) => file.startsWith(`${m.mountPath}/`));
          const volume = podSpec(deployment).volumes?.find((v) => v.name === mount?.name);
          const configMap = find<K8sObject & { data?: Record<string, string> }>(
            objects,
            'ConfigMap',
            volume?.configMap?.name ?? '',
          );
          const key = file.slice((mount?.mountPath.length ?? 0) + 1);
          if (!mount || !configMap || baseName(configMap.metadata.name) !== 'managed-services-ca') {
            problems.push(`${name}: ${variable} ${file} is not in the mounted managed-services-ca ConfigMap`);
          } else if (configMap.data?.[key] === undefined) {
            problems.push(`${name}: ConfigMap ${configMap.metadata.name} has no key ${key} for ${variable}`);
          }
        }
        // The prod profile turns TLS on, so the CA file named here is the one the connections check against.
        const config = loadConfig(tlsSchema, {
          service: name,
          env: { CONFIG_LOCATION: join(repoRoot, 'config-repo'), CONFIG_PROFILES: 'kubernetes,prod', ...env },
        });
        if (
          uses.DATABASE_TLS_CA_FILE &&
          (config.database?.tls?.enabled !== true || config.database.tls.caFile !== env['DATABASE_TLS_CA_FILE'])
        ) {
          problems.push(`${name}: database.tls is not on with the mounted CA file in the prod profile`);
        }
        if (
          uses.MESSAGING_RABBITMQ_TLS_CA_FILE &&
          (config.messaging.rabbitmq?.tls?.enabled !== true ||
            config.messaging.rabbitmq.tls.caFile !== env['MESSAGING_RABBITMQ_TLS_CA_FILE'])
        ) {
          problems.push(`${name}: messaging.rabbitmq.tls is not on with the mounted CA file in the prod profile`);
        }
        return problems;
      });
    });
  }
});

describe('cross references', () => {
  type ServiceObject = K8sObject & {
    spec: {
      type?: string;
      selector?: Record<string, string>;
      ports?: Array<{ name?: string; port: number; targetPort?: number | string }>;
    };
  };

  /** Problems with a backend (Service name and port) as seen from `from`. */
  function backendProblems(objects: K8sObject[], from: string, name: string, port: number | undefined): string[] {
    const service = find<ServiceObject>(objects, 'Service', name);
    if (!service) return [`${from}: no Service ${name}`];
    const servicePort = (service.spec.ports ?? []).find((p) => p.port === port);
    if (!servicePort) return [`${from}: Service ${name} has no port ${String(port)}`];
    const selected = byKind<DeploymentObject>(objects, 'Deployment').filter((d) =>
      labelsMatch({ matchLabels: service.spec.selector ?? {} }, d.spec?.template.metadata?.labels ?? {}),
    );
    if (selected.length !== 1) return [`${from}: Service ${name} selects ${selected.length} Deployments`];
    const deployment = selected[0] as DeploymentObject;
    const target = servicePort.targetPort ?? servicePort.port;
    const ports = podSpec(deployment).containers.flatMap((c) => c.ports ?? []);
    if (!ports.some((p) => p.name === target || p.containerPort === target)) {
      return [
        `${from}: Service ${name} targets port ${String(target)}, which ${deployment.metadata.name} does not declare`,
      ];
    }
    for (const [key, value] of Object.entries(deployment.spec?.selector.matchLabels ?? {})) {
      if (deployment.spec?.template.metadata?.labels?.[key] !== value)
        return [`${from}: Deployment ${deployment.metadata.name} selector does not match its pods`];
    }
    return [];
  }

  interface IngressObject extends K8sObject {
    spec: {
      tls?: Array<{ hosts?: string[]; secretName?: string }>;
      rules: Array<{
        host?: string;
        http: {
          paths: Array<{
            path: string;
            pathType: string;
            backend: { service: { name: string; port: { number?: number } } };
          }>;
        };
      }>;
    };
  }
  interface RouteObject extends K8sObject {
    spec: {
      hostnames?: string[];
      parentRefs: Array<{ name: string; sectionName?: string }>;
      rules: Array<{
        matches?: Array<{ path?: { type: string; value: string } }>;
        backendRefs?: Array<{ name: string; port?: number }>;
      }>;
    };
  }
  interface GatewayObject extends K8sObject {
    spec: {
      listeners: Array<{ name: string; hostname?: string; tls?: { certificateRefs?: Array<{ name: string }> } }>;
    };
  }

  test('when the edge routes a path, then its Service exists and selects one Deployment on a declared port', () => {
    expectNoProblems(withLandscape, (dir) => {
      const objects = rendered(dir);
      const problems: string[] = [];
      for (const ingress of byKind<IngressObject>(objects, 'Ingress')) {
        for (const rule of ingress.spec.rules) {
          for (const p of rule.http.paths)
            problems.push(
              ...backendProblems(
                objects,
                `${dir}: Ingress ${p.path}`,
                p.backend.service.name,
                p.backend.service.port.number,
              ),
            );
        }
      }
      for (const route of byKind<RouteObject>(objects, 'HTTPRoute')) {
        for (const rule of route.spec.rules) {
          for (const b of rule.backendRefs ?? [])
            problems.push(...backendProblems(objects, `${dir}: HTTPRoute ${route.metadata.name}`, b.name, b.port));
        }
        for (const parent of route.spec.parentRefs) {
          const gateway = find<GatewayObject>(objects, 'Gateway', parent.name);
          if (!gateway || (parent.sectionName && !gateway.spec.listeners.some((l) => l.name === parent.sectionName))) {
            problems.push(
              `${dir}: HTTPRoute ${route.metadata.name} attaches to missing ${parent.name}/${parent.sectionName ?? ''}`,
            );
          }
        }
      }
      return problems;
    });
  });

  test('when an overlay is rendered, then auth-server signs and the composite expects the issuer https://<edge host>, and JWKS stays internal', () => {
    expectNoProblems(withLandscape, (dir) => {
      const objects = rendered(dir);
      const hosts = [
        ...byKind<IngressObject>(objects, 'Ingress').flatMap((i) => i.spec.rules.map((r) => r.host)),
        ...byKind<GatewayObject>(objects, 'Gateway').flatMap((g) =>
          g.spec.listeners.filter((l) => l.name === 'https').map((l) => l.hostname),
        ),
      ];
      const envOf = (name: string, key: string) =>
        find<DeploymentObject>(objects, 'Deployment', name)?.spec?.template.spec?.containers[0]?.env?.find(
          (e) => e.name === key,
        )?.value;
      const issuer = envOf('auth-server', 'AUTH_ISSUER');
      const expected = envOf('product-composite', 'SECURITY_ISSUER');
      const problems: string[] = [];
      hosts.splice(0, hosts.length, ...new Set(hosts));
      if (hosts.length !== 1) problems.push(`${dir}: one edge host expected, got ${hosts.join(', ')}`);
      if (issuer !== `https://${hosts[0]}`) problems.push(`${dir}: AUTH_ISSUER ${issuer} is not https://${hosts[0]}`);
      if (expected !== issuer) problems.push(`${dir}: SECURITY_ISSUER ${expected} differs from AUTH_ISSUER ${issuer}`);
      const web = envOf('web', 'SECURITY_ISSUER');
      if (web !== issuer)
        problems.push(`${dir}: the storefront's SECURITY_ISSUER ${web} differs from AUTH_ISSUER ${issuer}`);
      if (envOf('product-composite', 'SECURITY_JWKS_URL') !== undefined)
        problems.push(`${dir}: SECURITY_JWKS_URL overridden`);
      return problems;
    });
    assert.equal(
      find<DeploymentObject>(
        rendered('overlays/prod'),
        'Deployment',
        'auth-server',
      )?.spec?.template.spec?.containers[0]?.env?.find((e) => e.name === 'AUTH_ISSUER')?.value,
      'https://landscape.example.org',
    );
  });

  test('when the Gateway serves /actuator/health, then clients get the liveness summary and no health details', () => {
    for (const dir of ['overlays/dev-gateway', 'overlays/prod-gateway']) {
      const rules = byKind<RouteObject>(rendered(dir), 'HTTPRoute').flatMap((r) => r.spec.rules);
      const actuator = rules.flatMap((rule) =>
        (rule.matches ?? []).filter((m) => m.path?.value?.startsWith('/actuator')).map((m) => ({ m, rule })),
      );
      assert.deepEqual(
        actuator.map(({ m }) => `${m.path?.type} ${m.path?.value}`),
        ['Exact /actuator/health'],
        dir,
      );
      const filters = (actuator[0]?.rule as { filters?: unknown[] } | undefined)?.filters;
      assert.deepEqual(
        filters,
        [
          {
            type: 'URLRewrite',
            urlRewrite: { path: { type: 'ReplaceFullPath', replaceFullPath: '/actuator/health/liveness' } },
          },
        ],
        dir,
      );
    }
  });

  test('when the Ingress serves /actuator/health, then clients get the liveness summary and no health details', () => {
    for (const dir of ['overlays/dev', 'overlays/prod']) {
      const objects = byKind<IngressObject>(rendered(dir), 'Ingress');
      const actuator = objects.flatMap((i) =>
        i.spec.rules.flatMap((r) =>
          r.http.paths
            .filter((p) => p.path.startsWith('/actuator'))
            .map(
              (p) =>
                `${i.metadata.annotations?.['nginx.ingress.kubernetes.io/rewrite-target']} ${r.host} ${p.pathType} ${p.path}`,
            ),
        ),
      );
      const host = objects.find((i) => i.metadata.name === 'edge')?.spec.rules[0]?.host;
      assert.deepEqual(actuator, [`/actuator/health/liveness ${host} Exact /actuator/health`], dir);
    }
  });

  test('when an overlay renders an Ingress, then its Exact and Prefix paths pass ingress-nginx strict path validation', () => {
    expectNoProblems(withLandscape, (dir) =>
      byKind<IngressObject>(rendered(dir), 'Ingress').flatMap((ingress) =>
        ingress.spec.rules.flatMap((r) =>
          r.http.paths
            .filter((p) => p.pathType !== 'ImplementationSpecific' && !/^[A-Za-z0-9/_-]+$/.test(p.path))
            .map((p) => `${dir}: ${p.pathType} ${p.path} is rejected by ingress-nginx v1.12+`),
        ),
      ),
    );
  });

  test('when the Gateway API replaces the Ingress, then the HTTPRoutes serve the Ingress paths, host and certificate', () => {
    // The base's Ingress: the overlays relax two path types for ingress-nginx only.
    const ingress = byKind<IngressObject>(
      readYamlDocuments(readFileSync(join(kubernetesDir, 'base/ingress.yaml'), 'utf8'), 'ingress.yaml') as K8sObject[],
      'Ingress',
    )[0];
    assert.ok(ingress);
    const fromIngress = ingress.spec.rules
      .flatMap((r) =>
        r.http.paths.map(
          (p) =>
            `${r.host} ${p.pathType === 'Prefix' ? 'PathPrefix' : p.pathType} ${p.path} -> ${p.backend.service.name}:${p.backend.service.port.number}`,
        ),
      )
      // The Gateway narrows /actuator/health to its liveness summary (tested below).
      .filter((route) => !route.includes(' /actuator/'))
      .sort();
    const objects = rendered('overlays/dev-gateway');
    assert.equal(byKind(objects, 'Ingress').length, 0, 'the Ingress is removed');
    const fromRoutes = byKind<RouteObject>(objects, 'HTTPRoute')
      .filter((r) => r.spec.parentRefs.some((p) => p.sectionName === 'https'))
      .flatMap((r) =>
        r.spec.rules.flatMap((rule) =>
          (rule.matches ?? []).flatMap((m) =>
            (rule.backendRefs ?? []).map(
              (b) => `${r.spec.hostnames?.join(',')} ${m.path?.type} ${m.path?.value} -> ${b.name}:${b.port}`,
            ),
          ),
        ),
      )
      .filter((route) => !route.includes(' /actuator/'))
      .sort();
    assert.deepEqual(fromRoutes, fromIngress);
    const gateway = find<GatewayObject>(objects, 'Gateway', 'edge');
    const https = gateway?.spec.listeners.find((l) => l.name === 'https');
    assert.equal(https?.tls?.certificateRefs?.[0]?.name, ingress.spec.tls?.[0]?.secretName);
    assert.equal(https?.hostname, ingress.spec.rules[0]?.host);
    // dev's certificate is overlays/dev/certificate or openssl's, as for the Ingress.
    assert.equal(gateway?.metadata.annotations?.['cert-manager.io/issuer'], undefined);
    const prodGateway = find<GatewayObject>(rendered('overlays/prod-gateway'), 'Gateway', 'edge');
    assert.equal(prodGateway?.metadata.annotations?.['cert-manager.io/issuer'], 'letsencrypt-prod');
  });

  test('when a pod names a ConfigMap, Secret or volume claim, then the overlay renders it with the keys it asks for', () => {
    expectNoProblems(withLandscape, (dir) => {
      const objects = rendered(dir);
      const keysOf = (kind: string, name: string): string[] | undefined => {
        const object = find<{ data?: Record<string, string> } & K8sObject>(objects, kind, name);
        return object ? Object.keys(object.data ?? {}) : undefined;
      };
      const problems: string[] = [];
      for (const d of byKind<DeploymentObject>(objects, 'Deployment')) {
        const at = `${dir}: ${d.metadata.name}`;
        for (const c of containersOf(d)) {
          for (const source of c.envFrom ?? []) {
            if (source.configMapRef && !keysOf('ConfigMap', source.configMapRef.name ?? ''))
              problems.push(`${at}: envFrom ConfigMap ${source.configMapRef.name}`);
            if (source.secretRef && !keysOf('Secret', source.secretRef.name ?? ''))
              problems.push(`${at}: envFrom Secret ${source.secretRef.name}`);
          }
          for (const e of c.env ?? []) {
            const ref = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
            if (!ref) continue;
            const kind = e.valueFrom?.secretKeyRef ? 'Secret' : 'ConfigMap';
            if (!(keysOf(kind, ref.name ?? '') ?? []).includes(ref.key))
              problems.push(`${at}: env ${e.name} wants ${kind} ${ref.name} key ${ref.key}`);
          }
        }
        for (const v of podSpec(d).volumes ?? []) {
          if (v.configMap) {
            const keys = keysOf('ConfigMap', v.configMap.name ?? '');
            if (!keys) problems.push(`${at}: volume ConfigMap ${v.configMap.name}`);
            for (const item of v.configMap.items ?? [])
              if (keys && !keys.includes(item.key))
                problems.push(`${at}: ConfigMap ${v.configMap.name} has no ${item.key}`);
          }
          if (
            v.secret &&
            !keysOf('Secret', v.secret.secretName ?? '') &&
            !createdByDeployScript.some((s) => s.name === v.secret?.secretName)
          ) {
            problems.push(`${at}: volume Secret ${v.secret.secretName}`);
          }
          if (v.persistentVolumeClaim && !find(objects, 'PersistentVolumeClaim', v.persistentVolumeClaim.claimName)) {
            problems.push(`${at}: claim ${v.persistentVolumeClaim.claimName}`);
          }
        }
      }
      return problems;
    });
  });

  test('when the edge needs a certificate, then an Issuer of the overlay or the deploy script provides it', () => {
    const script = readFileSync(join(kubernetesDir, 'scripts', 'deploy-dev-env.sh'), 'utf8');
    for (const s of createdByDeployScript)
      assert.match(script, new RegExp(`create secret tls ${s.name}`), `deploy-dev-env.sh creates ${s.name}`);
    expectNoProblems(deployable, (dir) => {
      const objects = rendered(dir);
      const issuers = byKind(objects, 'Issuer').map((i) => i.metadata.name);
      const certificates = byKind<{ spec: { secretName: string; issuerRef: { name: string } } } & K8sObject>(
        objects,
        'Certificate',
      );
      const problems: string[] = [];
      for (const cert of certificates)
        if (!issuers.includes(cert.spec.issuerRef.name))
          problems.push(`${dir}: Certificate ${cert.metadata.name} names Issuer ${cert.spec.issuerRef.name}`);
      for (const edge of [...byKind(objects, 'Ingress'), ...byKind(objects, 'Gateway')]) {
        const issuer = edge.metadata.annotations?.['cert-manager.io/issuer'];
        if (issuer !== undefined && !issuers.includes(issuer))
          problems.push(`${dir}: ${edge.kind} ${edge.metadata.name} names Issuer ${issuer}`);
        const secrets =
          edge.kind === 'Ingress'
            ? ((edge as IngressObject).spec.tls ?? []).map((t) => t.secretName ?? '')
            : (edge as GatewayObject).spec.listeners.flatMap((l) => (l.tls?.certificateRefs ?? []).map((r) => r.name));
        for (const secret of secrets) {
          const provided =
            issuer !== undefined ||
            certificates.some((c) => c.spec.secretName === secret) ||
            createdByDeployScript.some((s) => s.name === secret);
          if (!provided) problems.push(`${dir}: nothing provides the TLS secret ${secret}`);
        }
      }
      return problems;
    });
    // The ACME Issuers answer challenges where the edge is: the Ingress class, or the Gateway.
    for (const [dir, solver] of [
      ['overlays/prod', 'ingress'],
      ['overlays/prod-gateway', 'gatewayHTTPRoute'],
    ] as const) {
      for (const issuer of byKind<
        { spec: { acme?: { email: string; solvers: Array<{ http01?: Record<string, unknown> }> } } } & K8sObject
      >(rendered(dir), 'Issuer')) {
        assert.ok(
          issuer.spec.acme?.solvers.every((s) => s.http01?.[solver] !== undefined),
          `${dir}: ${issuer.metadata.name} solver`,
        );
        assert.match(
          issuer.spec.acme?.email ?? '',
          /^[^@\s]+@[^@\s]+\.[a-z]+$/,
          `${dir}: ${issuer.metadata.name} email`,
        );
      }
    }
  });

  test('when a NetworkPolicy or PodDisruptionBudget selects pods, then those pods exist', () => {
    // Pods created by others: cert-manager's http-01 solvers, the Gateway implementation's proxy.
    const external = ['allow-acme-http01-solver', 'gateway-proxy'];
    expectNoProblems(withLandscape, (dir) => {
      const objects = rendered(dir);
      const labels = [...podsOf(objects).values()].map((p) => p.labels ?? {});
      const problems: string[] = [];
      for (const policy of byKind<{ spec: { podSelector: Parameters<typeof labelsMatch>[0] } } & K8sObject>(
        objects,
        'NetworkPolicy',
      )) {
        if (!external.includes(policy.metadata.name) && !labels.some((l) => labelsMatch(policy.spec.podSelector, l)))
          problems.push(`${dir}: NetworkPolicy ${policy.metadata.name} selects no pod`);
      }
      for (const pdb of byKind<{ spec: { selector: Parameters<typeof labelsMatch>[0] } } & K8sObject>(
        objects,
        'PodDisruptionBudget',
      )) {
        if (!labels.some((l) => labelsMatch(pdb.spec.selector, l)))
          problems.push(`${dir}: PodDisruptionBudget ${pdb.metadata.name} selects no pod`);
      }
      return problems;
    });
  });

  describe('network policies', () => {
    const ingressController = pod(
      'ingress-nginx-controller',
      { 'app.kubernetes.io/name': 'ingress-nginx' },
      'ingress-nginx',
    );
    const gatewayProxy = pod('gateway proxy', { 'gateway.networking.k8s.io/gateway-name': 'edge' });
    const gatewayNamespaceProxy = pod('nginx-gateway proxy', { app: 'nginx' }, 'nginx-gateway');
    const solver = pod('http01 solver', { 'acme.cert-manager.io/http01-solver': 'true' });
    const kubeDns = pod('kube-dns', { 'k8s-app': 'kube-dns' }, 'kube-system');
    // NodeLocal DNSCache answers on a link-local address on every node, outside any pod selector.
    const nodeLocalDns = address('169.254.20.10');
    const ngfController = pod(
      'nginx-gateway-fabric controller',
      { 'app.kubernetes.io/name': 'nginx-gateway-fabric' },
      'nginx-gateway',
    );
    const istiod = pod('istiod', { app: 'istiod' }, 'istio-system');
    const stranger = pod('a pod of another namespace', { app: 'other' }, 'default');
    const managed = address('10.20.30.40');
    const internet = address('203.0.113.7');

    type Flow = [from: string | Endpoint, to: string | Endpoint, port: number, allowed: boolean];

    function checkFlows(dir: string, flows: Flow[], protocol = 'TCP'): void {
      const objects = rendered(dir);
      const pods = podsOf(objects);
      const endpoint = (e: string | Endpoint): Endpoint => {
        if (typeof e !== 'string') return e;
        const found = pods.get(e);
        assert.ok(found, `${dir}: no pod ${e}`);
        return found;
      };
      const wrong = flows
        .filter(
          ([from, to, port, allowed]) =>
            connectionAllowed(objects, endpoint(from), endpoint(to), port, protocol) !== allowed,
        )
        .map(
          ([from, to, port, allowed]) =>
            `${dir}: ${endpoint(from).name} -> ${endpoint(to).name}:${port} should be ${allowed ? 'allowed' : 'denied'}`,
        );
      assert.deepEqual(wrong, []);
    }

    const core = ['product', 'recommendation', 'review'];
    const landscapeFlows: Flow[] = [
      ...[...core, 'auth-server'].map((s): Flow => ['product-composite', s, 80, true]),
      ...core.map((s): Flow => [ingressController, s, 80, false]),
      [stranger, 'product-composite', 80, false],
      ['product', 'review', 80, false],
      ['review', 'product', 80, false],
      ['product', 'product-composite', 80, false],
      ['auth-server', 'product', 80, false],
      ['product', internet, 443, false],
      // The storefront reads every service's probes for its operator page, and nothing calls it but the edge.
      ...[...core, 'product-composite', 'auth-server'].map((s): Flow => ['web', s, 80, true]),
      ...[...core, 'product-composite', 'auth-server'].map((s): Flow => [s, 'web', 80, false]),
      [stranger, 'web', 80, false],
      ['web', internet, 443, false],
    ];

    test('when the dev overlay is deployed, then only the edge, the composite calls, the databases, the broker and DNS get through', () => {
      checkFlows('overlays/dev', [
        ...landscapeFlows,
        [ingressController, 'product-composite', 80, true],
        [ingressController, 'auth-server', 80, true],
        [ingressController, 'web', 80, true],
        [ingressController, 'postgres', 5432, false],
        ['web', 'postgres', 5432, false],
        ['web', 'rabbitmq', 5672, false],
        ['product', 'postgres', 5432, true],
        ['recommendation', 'postgres', 5432, true],
        ['review', 'mysql', 3306, true],
        ...[...core, 'product-composite'].map((s): Flow => [s, 'rabbitmq', 5672, true]),
        ['review', 'postgres', 5432, false],
        ['product', 'mysql', 3306, false],
        ['product-composite', 'postgres', 5432, false],
        ['auth-server', 'rabbitmq', 5672, false],
        ['auth-server', 'postgres', 5432, true],
        ['auth-server', 'mysql', 3306, false],
      ]);
      for (const protocol of ['UDP', 'TCP']) {
        checkFlows(
          'overlays/dev',
          [...services, 'postgres', 'mysql', 'rabbitmq'].flatMap((s): Flow[] => [
            [s, kubeDns, 53, true],
            [s, nodeLocalDns, 53, true],
            [s, internet, 53, false],
            [s, nodeLocalDns, 80, false],
          ]),
          protocol,
        );
      }
    });

    test('when the prod overlay is deployed, then the services reach the managed backends and the solver is reachable from the edge', () => {
      checkFlows('overlays/prod', [
        ...landscapeFlows,
        [ingressController, 'product-composite', 80, true],
        [ingressController, solver, 8089, true],
        ['product', managed, 5432, true],
        ['review', managed, 3306, true],
        ['product-composite', managed, 5671, true],
        ['auth-server', managed, 5432, true],
        ['auth-server', managed, 5671, false],
        ['auth-server', managed, 3306, false],
        ['product', address('192.0.2.10'), 5432, false],
      ]);
      for (const protocol of ['UDP', 'TCP']) {
        checkFlows(
          'overlays/prod',
          services.flatMap((s): Flow[] => [
            [s, kubeDns, 53, true],
            [s, nodeLocalDns, 53, true],
            [s, internet, 53, false],
          ]),
          protocol,
        );
      }
    });

    test('when the Gateway API serves the edge, then its proxies reach the public services instead of ingress-nginx', () => {
      for (const dir of ['overlays/dev-gateway', 'overlays/prod-gateway']) {
        checkFlows(dir, [
          ...landscapeFlows,
          [gatewayProxy, 'product-composite', 80, true],
          [gatewayProxy, 'auth-server', 80, true],
          [gatewayProxy, 'web', 80, true],
          [gatewayProxy, 'product', 80, false],
          [gatewayNamespaceProxy, 'product-composite', 80, true],
          [ingressController, 'product-composite', 80, false],
          [internet, gatewayProxy, 443, true],
          // NGINX Gateway Fabric: the proxy's agent connects to the controller (Service 443, pod 8443).
          [gatewayProxy, ngfController, 443, true],
          [gatewayProxy, ngfController, 8443, true],
          [gatewayProxy, ngfController, 80, false],
          [gatewayProxy, istiod, 15012, false],
          ['product-composite', ngfController, 8443, false],
        ]);
        checkFlows(
          dir,
          [
            [gatewayProxy, kubeDns, 53, true],
            [gatewayProxy, nodeLocalDns, 53, true],
          ],
          'UDP',
        );
      }
      checkFlows('overlays/prod-gateway', [
        [gatewayProxy, solver, 8089, true],
        [ingressController, solver, 8089, false],
      ]);
    });

    test("when the observability component is added, then the collector scrapes every service's http port and they send it OTLP, and nothing more opens", () => {
      const collector = 'otel-collector';
      const prometheus = pod('prometheus', { 'app.kubernetes.io/name': 'prometheus' }, 'monitoring');
      for (const dir of ['test/kustomizations/dev-observability', 'test/kustomizations/prod-observability']) {
        checkFlows(dir, [
          ...landscapeFlows,
          ...services.flatMap((s): Flow[] => [
            [collector, s, 80, true],
            [s, collector, 4317, true],
            [s, collector, 4318, true],
            [collector, s, 4318, false],
            [s, collector, 13133, false],
          ]),
          [stranger, collector, 4318, false],
          [ingressController, collector, 4317, false],
          [collector, internet, 443, false],
          [prometheus, 'product', 80, dir.startsWith('test/kustomizations/prod')],
          [prometheus, 'product', 5432, false],
        ]);
      }
      checkFlows('test/kustomizations/dev-observability', [
        [collector, 'postgres', 5432, false],
        [collector, 'rabbitmq', 5672, false],
        ['postgres', collector, 4318, false],
      ]);
      checkFlows('test/kustomizations/dev-observability', [[collector, kubeDns, 53, true]], 'UDP');
    });

    test('when the Gateway settings name another controller, then its proxies reach that controller on its port only', () => {
      // Istio runs the Gateway's proxy beside it too, fed by istiod on 15012.
      checkFlows('test/kustomizations/dev-gateway-istio', [
        [gatewayProxy, istiod, 15012, true],
        [gatewayProxy, istiod, 8443, false],
        [gatewayProxy, ngfController, 8443, false],
        [gatewayProxy, 'product-composite', 80, true],
        [pod('istio proxy namespace', { app: 'other' }, 'istio-system'), 'product-composite', 80, true],
      ]);
    });
  });
});
