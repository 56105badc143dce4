import { readFileSync } from 'node:fs';
import { parseAllDocuments } from '@landscape/vendor/yaml';

export interface Route {
  path: string;
  pathType: 'Prefix' | 'Exact';
  service: string;
  port: number;
}

interface IngressPath {
  path?: string;
  pathType?: string;
  backend?: { service?: { name?: string; port?: { number?: number } } };
}

/**
 * The routes of every Ingress in a manifest file. Hosts are ignored: locally the edge answers for any
 * host, as the design says. Only what the edge can honour is accepted; anything else is an error, so a
 * manifest change the edge does not understand is noticed instead of silently routed differently.
 */
export function readIngressRoutes(file: string): Route[] {
  const routes: Route[] = [];
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const object = doc.toJS() as {
      kind?: string;
      spec?: { rules?: Array<{ http?: { paths?: IngressPath[] } }> };
    } | null;
    if (object?.kind !== 'Ingress') continue;
    for (const rule of object.spec?.rules ?? []) {
      for (const entry of rule.http?.paths ?? []) {
        const { path, pathType } = entry;
        const service = entry.backend?.service?.name;
        const port = entry.backend?.service?.port?.number;
        if (!path?.startsWith('/')) throw new Error(`${file}: path ${JSON.stringify(path)} must start with /`);
        if (pathType !== 'Prefix' && pathType !== 'Exact')
          throw new Error(`${file}: ${path} has pathType ${pathType}; the edge supports Prefix and Exact`);
        if (!service || port === undefined)
          throw new Error(`${file}: ${path} needs a backend service name and port number`);
        routes.push({ path, pathType, service, port });
      }
    }
  }
  if (routes.length === 0) throw new Error(`${file}: no Ingress paths found`);
  return routes;
}

/** Kubernetes Prefix matching is by path element: /foo matches /foo and /foo/bar, not /foobar. */
function prefixMatches(prefix: string, pathname: string): boolean {
  const trimmed = prefix.replace(/\/+$/, '');
  return trimmed === '' || pathname === trimmed || pathname.startsWith(`${trimmed}/`);
}

/** The longest matching path wins; an Exact match beats a Prefix of the same length. */
export function matchRoute(routes: readonly Route[], pathname: string): Route | undefined {
  let best: Route | undefined;
  for (const route of routes) {
    const matches = route.pathType === 'Exact' ? route.path === pathname : prefixMatches(route.path, pathname);
    if (!matches) continue;
    if (
      !best ||
      route.path.length > best.path.length ||
      (route.path.length === best.path.length && route.pathType === 'Exact')
    )
      best = route;
  }
  return best;
}
