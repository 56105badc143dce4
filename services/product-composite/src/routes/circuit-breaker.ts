import type { FastifyInstance } from 'fastify';
import { Type } from '@landscape/vendor/typebox';
import { notFound, typedRoutes } from '@landscape/platform';
import type { CircuitBreaker } from '../resilience/circuit-breaker.ts';

/** The breaker's transitions in the shape of the actuator endpoint the original walkthrough reads. */
const ByName = Type.Object({ name: Type.String() });
const ByNameAndType = Type.Object({ name: Type.String(), type: Type.String() });

export function circuitBreakerRoutes(untyped: FastifyInstance, breakers: CircuitBreaker[]): void {
  const app = typedRoutes(untyped);
  const find = (name: string) => {
    const breaker = breakers.find((b) => b.name === name);
    if (!breaker) throw notFound(`No circuit breaker named ${name}`);
    return breaker;
  };
  app.get('/actuator/circuitbreakerevents', async () => ({ circuitBreakerEvents: breakers.flatMap((b) => b.events) }));
  app.get('/actuator/circuitbreakerevents/:name', { schema: { params: ByName } }, async (request) => ({
    circuitBreakerEvents: find(request.params.name).events,
  }));
  app.get('/actuator/circuitbreakerevents/:name/:type', { schema: { params: ByNameAndType } }, async (request) => {
    const { name, type } = request.params;
    return { circuitBreakerEvents: find(name).events.filter((e) => e.type === type) };
  });
}
