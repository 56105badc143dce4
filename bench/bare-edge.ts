// The landscape's edge (TLS, routes from an Ingress manifest) in front of the bare server, so the
// edge's own cost is measured apart from the services behind it. Runs in its own process so it does
// not share an event loop with the load generator.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createLogger, loadConfig } from '@landscape/platform';
import { edgeConfigSchema, startEdge } from '@landscape/edge';

const root = resolve(import.meta.dirname, '..');
const required = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const workDir = required('BENCH_EDGE_DIR');
mkdirSync(workDir, { recursive: true });
const ingressFile = join(workDir, 'ingress.yaml');
writeFileSync(
  ingressFile,
  `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: bench
spec:
  rules:
    - http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: bare
                port:
                  number: 80
`,
);

// The same configuration as the landscape's edge (timeouts, limits, log level), other ports and routes.
const config = loadConfig(edgeConfigSchema, {
  service: 'edge',
  env: { ...process.env, CONFIG_LOCATION: process.env['CONFIG_LOCATION'] ?? join(root, 'config-repo') },
});
const edge = await startEdge(
  {
    ...config.edge,
    host: '127.0.0.1',
    httpsPort: Number(required('BENCH_HTTPS_PORT')),
    httpPort: Number(required('BENCH_HTTP_PORT')),
    ingressFile,
    backends: { bare: required('BENCH_BACKEND') },
    dataDir: join(workDir, 'data'),
  },
  createLogger('bench-edge', config.logging.level),
);
process.stdout.write(`bench edge listening on ${edge.httpsPort}\n`);

const stop = () => void edge.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
