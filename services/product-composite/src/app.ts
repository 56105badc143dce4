import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { createHttpApp, httpClientMetrics, type Built, type ServiceDeps, type WithBus } from '@landscape/platform';
import type { CompositeConfig } from './config.ts';
import { createCoreClient } from './integration/core-client.ts';
import { breakerMetrics } from './resilience/breaker-metrics.ts';
import { CircuitBreaker } from './resilience/circuit-breaker.ts';
import { createProductCaller } from './resilience/product-caller.ts';
import { circuitBreakerRoutes } from './routes/circuit-breaker.ts';
import { compositeRoutes } from './routes/composite.ts';
import { createTokenVerifier } from '@landscape/platform/auth';

export async function buildApp(
  config: CompositeConfig,
  deps: ServiceDeps & WithBus,
  now: () => number = Date.now,
): Promise<Built> {
  const { resilience } = config;
  const client = createCoreClient(config.services, {
    timeoutMs: resilience.timeoutMs,
    record: httpClientMetrics(deps.metrics),
    tracing: deps.tracing,
  });
  const breakers = breakerMetrics(deps.metrics);
  const breaker = new CircuitBreaker('product', resilience.circuitBreaker, now, breakers.transitions('product'));
  breakers.watch(breaker);
  deps.health.add({
    name: 'circuitBreakers',
    readiness: false,
    // An open breaker is the composite protecting itself, not a reason to take it out of service.
    check: () => ({
      status: 'UP',
      details: {
        product: { status: breaker.state === 'CLOSED' ? 'UP' : `CIRCUIT_${breaker.state}`, details: breaker.metrics() },
      },
    }),
  });

  const app = createHttpApp({ ...deps, info: { app: { name: 'product-composite' } } });
  await app.register(swagger, {
    openapi: {
      info: { title: 'product-composite', version: '1', description: "The product landscape's public API" },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    hideUntagged: false,
  });
  await app.register(swaggerUi, { routePrefix: '/openapi' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  compositeRoutes(app, {
    verify: createTokenVerifier(config.security, now),
    getProduct: createProductCaller(client, breaker, resilience.retry),
    client,
    bus: deps.bus,
    faultsEnabled: config.faults.enabled,
    serviceAddress: deps.serviceAddress,
  });
  circuitBreakerRoutes(app, [breaker]);
  return { app, close: () => client.close() };
}
