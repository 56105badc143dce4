// The whole landscape in this test process, as `npm start` runs it but on free ports, with in-memory
// SQLite and a spy on the bus, so a fault test can count what was published and stored.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInProcessBus, createLogger, loadConfig, type EventBus } from '@landscape/platform';
import { configRepo } from '@landscape/platform/testing';
import { clientToken } from '../support/processes.ts';
import { authServerService } from '@landscape/auth-server/service';
import { edgeConfigSchema, startEdgeService, type RunningEdge } from '@landscape/edge';
import { productCompositeService } from '@landscape/product-composite/service';
import { productService } from '@landscape/product/service';
import { recommendationService } from '@landscape/recommendation/service';
import { reviewService } from '@landscape/review/service';
import { webService } from '@landscape/web/service';

export interface InProcessLandscape {
  urls: { product: string; recommendation: string; review: string; composite: string; auth: string; web: string };
  edge: RunningEdge;
  /** The auth server's private key set, so a test can sign what only the auth server should. */
  authKeyFile: string;
  /** Events published since start (or since the last reset). */
  published(): number;
  resetPublished(): void;
  token(client: 'reader' | 'writer', scope: string): Promise<string>;
  close(): Promise<void>;
}

export async function startInProcessLandscape(extra: Record<string, string> = {}): Promise<InProcessLandscape> {
  const folder = mkdtempSync(join(tmpdir(), 'landscape-fault-'));
  const logger = createLogger('fault-landscape', 'silent');
  const env: Record<string, string> = {
    CONFIG_LOCATION: configRepo,
    CONFIG_PROFILES: 'embedded',
    LOGGING_LEVEL: 'silent',
    SERVER_PORT: '0',
    SERVER_HOST: '127.0.0.1',
    DATABASE_FILE: ':memory:',
    AUTH_CLIENT_SECRETS: JSON.stringify({ reader: 'secret', writer: 'secret' }),
    AUTH_USER_PASSWORDS: JSON.stringify({ magnus: 'password' }),
    AUTH_KEYS_FILE: join(folder, 'jwks.json'),
    AUTH_COOKIES_FILE: join(folder, 'cookie-keys.json'),
    MESSAGING_RETRY_INITIAL_INTERVAL_MS: '20',
    MESSAGING_RETRY_MAX_INTERVAL_MS: '40',
    ...extra,
  };
  const productConfig = productService.loadConfig(env);
  const bus = createInProcessBus(productConfig.messaging, logger);
  let published = 0;
  const spied: EventBus = {
    async publish(events) {
      await bus.publish(events);
      published += events.length;
    },
    subscribe: (destination, group, handler) => bus.subscribe(destination, group, handler),
    health: () => bus.health(),
    close: () => bus.close(),
  };
  const product = await productService.start(productConfig, { bus: spied, logger });
  const recommendation = await recommendationService.start(recommendationService.loadConfig(env), {
    bus: spied,
    logger,
  });
  const review = await reviewService.start(reviewService.loadConfig(env), { bus: spied, logger });
  const auth = await authServerService.start(authServerService.loadConfig(env), { logger });
  const composite = await productCompositeService.start(
    productCompositeService.loadConfig({
      ...env,
      SERVICES_PRODUCT_URL: product.url,
      SERVICES_RECOMMENDATION_URL: recommendation.url,
      SERVICES_REVIEW_URL: review.url,
      SECURITY_JWKS_URL: `${auth.url}/oauth/jwks`,
    }),
    { bus: spied, logger },
  );
  const webConfig = webService.loadConfig({ ...env, SECURITY_JWKS_URL: `${auth.url}/oauth/jwks` });
  webConfig.web.services = {
    'product-composite': composite.url,
    product: product.url,
    recommendation: recommendation.url,
    review: review.url,
    'auth-server': auth.url,
  };
  webConfig.web.compositeUrl = composite.url;
  const web = await webService.start(webConfig, { logger });

  const edgeConfig = loadConfig(edgeConfigSchema, {
    service: 'edge',
    env: {
      ...env,
      EDGE_HTTPS_PORT: '0',
      EDGE_HTTP_PORT: '0',
      EDGE_MANAGEMENT_PORT: '0',
      EDGE_DATA_DIR: join(folder, 'edge'),
    },
  });
  edgeConfig.edge.backends = { 'product-composite': composite.url, 'auth-server': auth.url, web: web.url };
  const edge = await startEdgeService(edgeConfig, logger);

  const services = [edge, web, composite, auth, review, recommendation, product];
  return {
    urls: {
      product: product.url,
      recommendation: recommendation.url,
      review: review.url,
      composite: composite.url,
      auth: auth.url,
      web: web.url,
    },
    edge,
    authKeyFile: env.AUTH_KEYS_FILE ?? '',
    published: () => published,
    resetPublished: () => {
      published = 0;
    },
    token: (client, scope) => clientToken(auth.url, client, scope),
    async close() {
      for (const service of services) await service.close();
      await bus.close();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}
