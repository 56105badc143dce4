// What both ways of running the landscape share: the edge in front and the banner that tells a
// person where everything is.
import { createLogger, loadConfig } from '@landscape/platform';
import { edgeConfigSchema, startEdgeService, type RunningEdge } from '@landscape/edge';

export const ports = { 'product-composite': 7000, product: 7001, recommendation: 7002, review: 7003, 'auth-server': 9999 } as const;

export async function startLocalEdge(env: Record<string, string | undefined>): Promise<RunningEdge> {
  const config = loadConfig(edgeConfigSchema, { service: 'edge', env });
  return startEdgeService(config, createLogger('edge', config.logging.level));
}

/** performance.now() counts from the process's start, so the figure includes loading the code. */
export function banner(mode: string, edge: RunningEdge): string {
  const base = `https://localhost:${edge.httpsPort}`;
  const services = Object.entries(ports).map(([name, port]) => `  ${name.padEnd(18)} http://localhost:${port}`).join('\n');
  return `
The product landscape is running (${mode}).
  edge               ${base}  (http://localhost:${edge.httpPort} redirects to it; its own health on http://localhost:${edge.managementPort}/actuator/health)
${services}

Get a token, create a product, read it (the edge's certificate is self-signed, hence -k):
  TOKEN=$(curl -ks ${base}/oauth/token -u writer:secret -d grant_type=client_credentials -d scope="product:read product:write" | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')
  curl -ks ${base}/product-composite -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"productId":1,"name":"product 1","weight":1}'
  curl -ks ${base}/product-composite/1 -H "Authorization: Bearer $TOKEN"

Ready in ${Math.round(performance.now())} ms. Press Ctrl-C to stop.
`;
}
