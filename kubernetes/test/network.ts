// Decides whether NetworkPolicies let a connection through, the way Kubernetes does: a pod selected
// by a policy of a direction accepts only what one of those policies allows in that direction.
import type { K8sObject } from './render.ts';
import { byKind, labelsMatch, namespace } from './render.ts';

export interface Endpoint {
  /** For messages. */
  name: string;
  /** Pods have a namespace and labels; addresses outside the cluster have an ip. */
  namespace?: string;
  namespaceLabels?: Record<string, string>;
  labels?: Record<string, string>;
  ip?: string;
}

type Selector = Parameters<typeof labelsMatch>[0];

interface Peer {
  podSelector?: Selector;
  namespaceSelector?: Selector;
  ipBlock?: { cidr: string; except?: string[] };
}

interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: Array<{ port?: number | string; protocol?: string }>;
}

interface Policy {
  metadata: { name: string; namespace?: string };
  spec: { podSelector: Selector; policyTypes?: string[]; ingress?: Rule[]; egress?: Rule[] };
}

export const pod = (name: string, labels: Record<string, string>, ns = namespace): Endpoint => ({
  name,
  namespace: ns,
  namespaceLabels: { 'kubernetes.io/metadata.name': ns },
  labels,
});

export const address = (ip: string): Endpoint => ({ name: ip, ip });

/** A pod of each Deployment the objects hold, with its pod template's labels. */
export function podsOf(objects: K8sObject[]): Map<string, Endpoint> {
  const pods = new Map<string, Endpoint>();
  for (const deployment of byKind(objects, 'Deployment')) {
    const template = (deployment['spec'] as { template: { metadata: { labels: Record<string, string> } } }).template;
    pods.set(
      deployment.metadata.name,
      pod(deployment.metadata.name, template.metadata.labels, deployment.metadata.namespace ?? namespace),
    );
  }
  return pods;
}

function ipv4(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255))
    throw new Error(`not an IPv4 address: ${ip}`);
  return parts.reduce((n, p) => n * 256 + p, 0);
}

function inCidr(ip: string, cidr: string): boolean {
  const [base = '', bits = '32'] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipv4(ip) / size) === Math.floor(ipv4(base) / size);
}

function peerMatches(peer: Peer, endpoint: Endpoint, policyNamespace: string): boolean {
  if (peer.ipBlock) {
    return (
      endpoint.ip !== undefined &&
      inCidr(endpoint.ip, peer.ipBlock.cidr) &&
      !(peer.ipBlock.except ?? []).some((cidr) => inCidr(endpoint.ip as string, cidr))
    );
  }
  if (endpoint.ip !== undefined) return false;
  const namespaceOk = peer.namespaceSelector
    ? labelsMatch(peer.namespaceSelector, endpoint.namespaceLabels ?? {})
    : endpoint.namespace === policyNamespace;
  return namespaceOk && (peer.podSelector ? labelsMatch(peer.podSelector, endpoint.labels ?? {}) : true);
}

function portMatches(rule: Rule, port: number, protocol: string): boolean {
  if (!rule.ports || rule.ports.length === 0) return true;
  // The manifests give numbers; a named port would need the destination's container ports.
  return rule.ports.some((p) => (p.protocol ?? 'TCP') === protocol && (p.port === undefined || p.port === port));
}

function allowedOneWay(
  policies: Policy[],
  subject: Endpoint,
  other: Endpoint,
  direction: 'Ingress' | 'Egress',
  port: number,
  protocol: string,
): boolean {
  if (subject.ip !== undefined) return true;
  const selecting = policies.filter(
    (p) =>
      (p.metadata.namespace ?? namespace) === subject.namespace &&
      labelsMatch(p.spec.podSelector, subject.labels ?? {}) &&
      (p.spec.policyTypes ?? (direction === 'Ingress' ? ['Ingress'] : p.spec.egress ? ['Egress'] : [])).includes(
        direction,
      ),
  );
  if (selecting.length === 0) return true;
  return selecting.some((p) =>
    ((direction === 'Ingress' ? p.spec.ingress : p.spec.egress) ?? []).some((rule) => {
      const peers = direction === 'Ingress' ? rule.from : rule.to;
      const peerOk =
        !peers ||
        peers.length === 0 ||
        peers.some((peer) => peerMatches(peer, other, p.metadata.namespace ?? namespace));
      return peerOk && portMatches(rule, port, protocol);
    }),
  );
}

/** Whether a connection from `source` to `destination` on port/protocol gets through every policy. */
export function connectionAllowed(
  objects: K8sObject[],
  source: Endpoint,
  destination: Endpoint,
  port: number,
  protocol = 'TCP',
): boolean {
  const policies = byKind<Policy>(objects, 'NetworkPolicy');
  return (
    allowedOneWay(policies, source, destination, 'Egress', port, protocol) &&
    allowedOneWay(policies, destination, source, 'Ingress', port, protocol)
  );
}
