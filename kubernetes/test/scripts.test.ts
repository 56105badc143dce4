// Runs the deploy scripts on a copy of kubernetes/ against fake-kubectl.sh, which records the calls
// and plays a cluster (with or without cert-manager, with a Deployment that never gets ready).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { delimiter, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { stageTree, type StagedTree } from './render.ts';

function onPath(tool: string): string {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, tool))) return join(dir, tool);
  }
  throw new Error(`${tool} is required for this test and is not on PATH`);
}

const realKubectl = onPath('kubectl');
const trees: StagedTree[] = [];
after(() => {
  for (const t of trees) t.remove();
});

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  calls: string[];
  tree: StagedTree;
}

function cluster() {
  const tree = stageTree({ credentials: false });
  trees.push(tree);
  const bin = join(tree.root, 'bin');
  mkdirSync(bin);
  copyFileSync(join(import.meta.dirname, 'fake-kubectl.sh'), join(bin, 'kubectl'));
  chmodSync(join(bin, 'kubectl'), 0o755);
  const log = join(tree.root, 'kubectl.log');
  return {
    tree,
    run(script: string, fake: Record<string, string> = {}): Run {
      writeFileSync(log, '');
      const result = spawnSync('bash', [join(tree.kubernetes, 'scripts', script)], {
        encoding: 'utf8',
        env: {
          PATH: `${bin}${delimiter}${process.env['PATH'] ?? ''}`,
          REAL_KUBECTL: realKubectl,
          FAKE_LOG: log,
          FAKE_APPLIED: join(tree.root, 'applied.yaml'),
          WAIT_TIMEOUT: '5',
          ...fake,
        },
      });
      return {
        status: result.status,
        stdout: result.stdout,
        stderr: result.stderr,
        calls: readFileSync(log, 'utf8').split('\n').filter(Boolean),
        tree,
      };
    },
  };
}

const secretsOf = (tree: StagedTree, overlay: string) => join(tree.kubernetes, 'overlays', overlay, 'secrets');
const read = (path: string) => readFileSync(path, 'utf8');

describe('deploy-dev-env.sh', () => {
  test('when it runs without cert-manager, then it writes random credentials, applies the dev overlay, makes the certificate with openssl and waits for every deployment', () => {
    const { run } = cluster();
    const result = run('deploy-dev-env.sh');
    assert.equal(result.status, 0, result.stderr);
    const secrets = secretsOf(result.tree, 'dev');
    const passwords = ['postgres', 'mysql', 'rabbitmq'].map((name) => {
      const file = join(secrets, `${name}.env`);
      assert.equal(statSync(file).mode & 0o777, 0o600, `${name}.env is readable by its owner only`);
      const password = /PASSWORD=(.*)/.exec(read(file))?.[1] ?? '';
      assert.match(password, /^[A-Za-z0-9]{24,}$/, `${name}.env password`);
      return password;
    });
    assert.equal(new Set(passwords).size, 3, 'every server gets its own password');
    assert.match(read(join(secrets, 'auth-server.env')), /AUTH_CLIENT_SECRETS=\{"reader":"secret","writer":"secret"\}/);
    assert.ok(
      result.calls.includes(`apply --kustomize ${join(result.tree.kubernetes, 'overlays/dev-gateway')}`),
      result.calls.join('\n'),
    );
    assert.ok(
      !result.calls.some((c) => c.includes('overlays/dev/certificate')),
      'the cert-manager objects are left out',
    );
    assert.ok(result.calls.some((c) => c.startsWith('create secret tls tls-certificate --namespace hands-on')));
    assert.match(read(join(result.tree.root, 'applied.yaml')), /name: tls-certificate/);
    const waited = result.calls.filter((c) => c.startsWith('rollout status')).map((c) => c.split(' ')[4]);
    assert.equal(waited.length, 8, 'a rollout status per Deployment');
  });

  test('when EDGE chooses the edge, then gateway (the default) applies dev-gateway, ingress applies dev, and anything else is refused', () => {
    const { run, tree } = cluster();
    const applied = (r: Run) =>
      r.calls
        .filter((c) => c.startsWith('apply --kustomize'))
        .map((c) => c.slice(tree.kubernetes.length + 'apply --kustomize '.length + 1));
    const gateway = run('deploy-dev-env.sh', { EDGE: 'gateway' });
    assert.equal(gateway.status, 0, gateway.stderr);
    assert.deepEqual(applied(gateway), ['overlays/dev-gateway']);
    const ingress = run('deploy-dev-env.sh', { EDGE: 'ingress' });
    assert.equal(ingress.status, 0, ingress.stderr);
    assert.deepEqual(applied(ingress), ['overlays/dev']);
    const other = run('deploy-dev-env.sh', { EDGE: 'traefik' });
    assert.notEqual(other.status, 0);
    assert.match(other.stderr, /EDGE=traefik: choose gateway or ingress/);
    assert.deepEqual(applied(other), []);
  });

  test('when the Gateway edge is chosen on a cluster without the Gateway API, then it refuses before applying and points to EDGE=ingress', () => {
    const result = cluster().run('deploy-dev-env.sh', { FAKE_GATEWAY_API: 'no' });
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /no Gateway API resources.*EDGE=ingress/);
    assert.ok(!result.calls.some((c) => c.startsWith('apply')));
  });

  test('when kubectl cannot list the Deployments, or lists none, then the wait fails instead of waiting for nothing', () => {
    const { run } = cluster();
    const failing = run('deploy-dev-env.sh', { FAKE_GET_DEPLOYMENTS: 'fail' });
    assert.notEqual(failing.status, 0);
    assert.match(failing.stderr, /could not list the deployments of hands-on/);
    assert.ok(!failing.calls.some((c) => c.startsWith('rollout status')));
    const none = run('deploy-dev-env.sh', { FAKE_GET_DEPLOYMENTS: 'none' });
    assert.notEqual(none.status, 0);
    assert.match(none.stderr, /no deployments in hands-on/);
  });

  test('when it runs again, then it keeps the credentials it wrote', () => {
    const { run, tree } = cluster();
    assert.equal(run('deploy-dev-env.sh').status, 0);
    const before = readdirSync(secretsOf(tree, 'dev'))
      .filter((f) => f.endsWith('.env'))
      .map((f) => read(join(secretsOf(tree, 'dev'), f)));
    assert.equal(run('deploy-dev-env.sh').status, 0);
    const again = readdirSync(secretsOf(tree, 'dev'))
      .filter((f) => f.endsWith('.env'))
      .map((f) => read(join(secretsOf(tree, 'dev'), f)));
    assert.deepEqual(again, before);
  });

  test('when cert-manager is installed, then the certificate kustomization is applied and waited for instead of openssl', () => {
    const result = cluster().run('deploy-dev-env.sh', { FAKE_CERT_MANAGER: 'yes' });
    assert.equal(result.status, 0, result.stderr);
    assert.ok(result.calls.includes(`apply --kustomize ${join(result.tree.kubernetes, 'overlays/dev/certificate')}`));
    assert.ok(!result.calls.some((c) => c.startsWith('create secret')));
    assert.ok(result.calls.some((c) => c.startsWith('wait certificate/tls-certificate')));
  });

  test('when a deployment does not become ready, then it fails naming it and shows the pods that are not Ready with their last events', () => {
    const result = cluster().run('deploy-dev-env.sh', { FAKE_NOT_READY: 'review' });
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /not ready after 5s: deployment\.apps\/review/);
    assert.match(result.stderr, /== pod\/review-5d9c7-x2x4q \(Ready: False\)/);
    assert.match(result.stderr, /CrashLoopBackOff/);
    assert.match(result.stderr, /BackOff\s+Back-off restarting failed container/);
    assert.doesNotMatch(result.stderr, /pod\/product-7f6b8/);
  });
});

describe('deploy-prod-env.sh', () => {
  test('when the credential files are missing or hold placeholders, then it refuses to deploy', () => {
    const { run, tree } = cluster();
    const missing = run('deploy-prod-env.sh', { FAKE_CERT_MANAGER: 'yes' });
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /secrets\/[\w-]+\.env is missing/);
    for (const file of readdirSync(secretsOf(tree, 'prod')).filter((f) => f.endsWith('.example'))) {
      copyFileSync(join(secretsOf(tree, 'prod'), file), join(secretsOf(tree, 'prod'), file.replace(/\.example$/, '')));
    }
    const placeholders = run('deploy-prod-env.sh', { FAKE_CERT_MANAGER: 'yes' });
    assert.notEqual(placeholders.status, 0);
    assert.match(placeholders.stderr, /still holds __SET_ME__ placeholders/);
    assert.ok(!placeholders.calls.some((c) => c.startsWith('apply')));
  });

  test('when the CA bundle or the settings still hold their placeholders, then it refuses to deploy; once filled in, it applies and waits', () => {
    const { run, tree } = cluster();
    for (const file of readdirSync(secretsOf(tree, 'prod')).filter((f) => f.endsWith('.example'))) {
      writeFileSync(
        join(secretsOf(tree, 'prod'), file.replace(/\.example$/, '')),
        read(join(secretsOf(tree, 'prod'), file)).replaceAll('__SET_ME__', 'filled-in'),
      );
    }
    const noCa = run('deploy-prod-env.sh', { FAKE_CERT_MANAGER: 'yes' });
    assert.notEqual(noCa.status, 0);
    assert.match(noCa.stderr, /managed-services-ca\.pem holds no certificate/);
    assert.ok(!noCa.calls.some((c) => c.startsWith('apply')));
    writeFileSync(
      join(tree.kubernetes, 'overlays', 'prod', 'managed-services-ca.pem'),
      '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
    );
    const examples = run('deploy-prod-env.sh', { FAKE_CERT_MANAGER: 'yes' });
    assert.notEqual(examples.status, 0);
    assert.match(examples.stderr, /still name example domains/);
    const prod = join(tree.kubernetes, 'overlays', 'prod');
    for (const file of ['edge-settings.yaml', 'managed-services.yaml', 'kustomization.yaml']) {
      writeFileSync(join(prod, file), read(join(prod, file)).replace(/example\.(org|com)/g, 'landscape.test'));
    }
    const withoutCertManager = run('deploy-prod-env.sh');
    assert.notEqual(withoutCertManager.status, 0);
    assert.match(withoutCertManager.stderr, /cert-manager is not installed/);
    const deployed = run('deploy-prod-env.sh', { FAKE_CERT_MANAGER: 'yes' });
    assert.equal(deployed.status, 0, deployed.stderr);
    assert.ok(deployed.calls.includes(`apply --kustomize ${prod}-gateway`), deployed.calls.join('\n'));
    const ingress = run('deploy-prod-env.sh', { FAKE_CERT_MANAGER: 'yes', EDGE: 'ingress' });
    assert.equal(ingress.status, 0, ingress.stderr);
    assert.ok(ingress.calls.includes(`apply --kustomize ${prod}`));
    assert.ok(deployed.calls.some((c) => c.startsWith('rollout status')));
  });
});

describe('undeploy.sh', () => {
  test('when the namespace exists, then it deletes it; when it does not, then it does nothing', () => {
    const { run } = cluster();
    const deleted = run('undeploy.sh');
    assert.equal(deleted.status, 0, deleted.stderr);
    assert.ok(deleted.calls.some((c) => c.startsWith('delete namespace hands-on')));
    const absent = run('undeploy.sh', { FAKE_NAMESPACE: 'no' });
    assert.equal(absent.status, 0);
    assert.ok(!absent.calls.some((c) => c.startsWith('delete')));
  });
});
