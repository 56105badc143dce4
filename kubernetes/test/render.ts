// Renders the kustomizations under kubernetes/ in a temporary copy of the tree (the git-ignored
// credential files written there from their examples) and validates what they produce.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Certificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate';
import { Issuer } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Issuer';
import { Gateway } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway';
import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';

export const repoRoot = resolve(import.meta.dirname, '../..');
export const kubernetesDir = join(repoRoot, 'kubernetes');
export const namespace = 'hands-on';

/** The services of the landscape: each has a Deployment and a Service of this name. */
export const services = ['product', 'recommendation', 'review', 'product-composite', 'auth-server', 'web'] as const;

/** What the deploy scripts create besides `kubectl apply -k` (the openssl certificate). */
export const createdByDeployScript = [{ kind: 'Secret', name: 'tls-certificate' }] as const;

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

interface Model {
  validate(): void;
}

/**
 * The only API versions and kinds the manifests may use, each with the model that validates it. An
 * object of any other kind fails the tests, so a removed or beta API version cannot slip in.
 */
const models: Record<string, new (data: never) => Model> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'apps/v1/Deployment': Deployment,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'cert-manager.io/v1/Certificate': Certificate,
  'cert-manager.io/v1/Issuer': Issuer,
  'gateway.networking.k8s.io/v1/Gateway': Gateway,
  'gateway.networking.k8s.io/v1/HTTPRoute': HTTPRoute,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
};

/** API versions Kubernetes, cert-manager or the Gateway API have removed or deprecated. */
export const deprecatedApiVersions = [
  'extensions/v1beta1',
  'apps/v1beta1',
  'apps/v1beta2',
  'networking.k8s.io/v1beta1',
  'policy/v1beta1',
  'batch/v1beta1',
  'autoscaling/v2beta1',
  'autoscaling/v2beta2',
  'rbac.authorization.k8s.io/v1beta1',
  'cert-manager.io/v1alpha2',
  'cert-manager.io/v1alpha3',
  'cert-manager.io/v1beta1',
  'certmanager.k8s.io/v1alpha1',
  'gateway.networking.k8s.io/v1alpha2',
  'gateway.networking.k8s.io/v1beta1',
];

/** Throws with the object's kind, name and the schema's complaint (Kubernetes, cert-manager, Gateway API, Prometheus operator) when it does not validate. */
export function validateObject(object: K8sObject): void {
  const key = `${object.apiVersion}/${object.kind}`;
  const Model = models[key];
  if (Model === undefined) {
    throw new Error(
      `${key} ${object.metadata.name}: not a kind these manifests may use (known: ${Object.keys(models).join(', ')})`,
    );
  }
  try {
    new Model(object as never).validate();
  } catch (error) {
    throw new Error(`${key} ${object.metadata.name} does not validate: ${(error as Error).message}`, { cause: error });
  }
}

/** Runs kubectl; a missing kubectl fails the caller's test with that reason rather than skipping it. */
export function kubectl(args: string[], cwd = repoRoot): string {
  const result = spawnSync('kubectl', args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error)
    throw new Error(`kubectl ${args[0]} could not run (${result.error.message}); kubectl is required for these tests`);
  if (result.status !== 0)
    throw new Error(`kubectl ${args.join(' ')} failed (${result.status}): ${result.stderr.trim()}`);
  return result.stdout;
}

/** Folders under `dir` holding a kustomization.yaml, relative to `dir`. */
export function kustomizationDirs(dir: string): string[] {
  const found: string[] = [];
  const walk = (folder: string) => {
    if (existsSync(join(folder, 'kustomization.yaml'))) found.push(relative(dir, folder) || '.');
    for (const entry of readdirSync(folder)) {
      const path = join(folder, entry);
      if (statSync(path).isDirectory()) walk(path);
    }
  };
  walk(dir);
  return found.sort();
}

export function readYamlDocuments(text: string, source: string): unknown[] {
  return parseAllDocuments(text).flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors[0]?.message}`);
    const value: unknown = doc.toJS();
    return value === null || value === undefined ? [] : [value];
  });
}

export function readKustomization(dir: string): Record<string, unknown> {
  const [doc] = readYamlDocuments(
    readFileSync(join(dir, 'kustomization.yaml'), 'utf8'),
    join(dir, 'kustomization.yaml'),
  );
  return doc as Record<string, unknown>;
}

export interface StagedTree {
  root: string;
  kubernetes: string;
  remove(): void;
}

/**
 * A copy of kubernetes/ and config-repo/ in a temporary folder, with every secrets/*.env written from
 * its *.env.example (placeholders left as they are) unless `credentials` is false, so the tree itself
 * never gets credential files from a test.
 */
export function stageTree({ credentials = true }: { credentials?: boolean } = {}): StagedTree {
  const root = mkdtempSync(join(tmpdir(), 'landscape-kubernetes-'));
  cpSync(kubernetesDir, join(root, 'kubernetes'), { recursive: true, filter: (source) => !source.endsWith('.env') });
  cpSync(join(repoRoot, 'config-repo'), join(root, 'config-repo'), { recursive: true });
  for (const overlay of credentials ? ['dev', 'prod'] : []) {
    const secrets = join(root, 'kubernetes', 'overlays', overlay, 'secrets');
    for (const example of readdirSync(secrets).filter((name) => name.endsWith('.env.example'))) {
      writeFileSync(join(secrets, example.replace(/\.example$/, '')), readFileSync(join(secrets, example)));
    }
  }
  return { root, kubernetes: join(root, 'kubernetes'), remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** The objects `kubectl kustomize` renders for a kustomization folder of the staged tree. */
export function render(tree: StagedTree, dir: string): K8sObject[] {
  const output = kubectl(['kustomize', join(tree.kubernetes, dir)]);
  return readYamlDocuments(output, dir) as K8sObject[];
}

/** render(), once per folder: later calls get the same objects, or the same error. */
export function renderer(tree: StagedTree): (dir: string) => K8sObject[] {
  const renders = new Map<string, K8sObject[] | Error>();
  return (dir) => {
    if (!renders.has(dir)) {
      try {
        renders.set(dir, render(tree, dir));
      } catch (error) {
        renders.set(dir, error as Error);
      }
    }
    const result = renders.get(dir);
    if (result instanceof Error) throw result;
    return result as K8sObject[];
  };
}

export const byKind = <T = K8sObject>(objects: K8sObject[], kind: string): T[] =>
  objects.filter((o) => o.kind === kind) as unknown as T[];

export function find<T = K8sObject>(objects: K8sObject[], kind: string, name: string): T | undefined {
  return objects.find((o) => o.kind === kind && o.metadata.name === name) as unknown as T | undefined;
}

/** A generated object's name without the hash suffix kustomize appends. */
export const baseName = (name: string): string => name.replace(/-[a-z0-9]{10}$/, '');

export type DeploymentObject = IDeployment & K8sObject;

/** The landscape's own Deployments (their image is one of landscape/<service>). */
export function serviceDeployments(objects: K8sObject[]): DeploymentObject[] {
  return byKind<DeploymentObject>(objects, 'Deployment').filter((d) =>
    (services as readonly string[]).includes(d.metadata.name),
  );
}

export function decodeSecret(secret: K8sObject): Record<string, string> {
  const data = (secret['data'] ?? {}) as Record<string, string>;
  return Object.fromEntries(
    Object.entries(data).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]),
  );
}

export function labelsMatch(
  selector:
    | {
        matchLabels?: Record<string, string>;
        matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
      }
    | undefined,
  labels: Record<string, string>,
): boolean {
  if (selector === undefined) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const expression of selector.matchExpressions ?? []) {
    const value = labels[expression.key];
    const values = expression.values ?? [];
    const ok =
      expression.operator === 'In'
        ? value !== undefined && values.includes(value)
        : expression.operator === 'NotIn'
          ? value === undefined || !values.includes(value)
          : expression.operator === 'Exists'
            ? value !== undefined
            : expression.operator === 'DoesNotExist'
              ? value === undefined
              : false;
    if (!ok) return false;
  }
  return true;
}
