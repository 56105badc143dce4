import { resolve } from 'node:path';
import { Type, type Static } from 'typebox';
import { loggingConfigSchema } from '@landscape/platform';

export const repositoryRoot = resolve(import.meta.dirname, '../..');

export const edgeConfigSchema = Type.Object({
  logging: loggingConfigSchema,
  edge: Type.Object({
    host: Type.String({ default: '0.0.0.0' }),
    httpsPort: Type.Integer({ minimum: 0, maximum: 65535, default: 8443 }),
    httpPort: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
    /** The Ingress manifest the routes are read from, relative to the repository. */
    ingressFile: Type.String({ default: 'kubernetes/base/ingress.yaml' }),
    /** Ingress backend service name → where that service listens here. */
    backends: Type.Record(Type.String(), Type.String()),
    dataDir: Type.String({ default: 'data/edge' }),
    /** Names the development certificate covers. */
    certificateNames: Type.Array(Type.String(), { default: ['localhost', '127.0.0.1', 'minikube.me'] }),
    bodyLimitBytes: Type.Integer({ minimum: 1, default: 1024 * 1024 }),
    connectTimeoutMs: Type.Integer({ minimum: 1, default: 5000 }),
    responseTimeoutMs: Type.Integer({ minimum: 1, default: 60000 }),
  }),
});
export type EdgeConfig = Static<typeof edgeConfigSchema>;
