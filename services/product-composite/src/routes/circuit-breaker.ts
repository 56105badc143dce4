import type { FastifyInstance } from 'fastify';
import { notFound } from '@landscape/platform';
import type { CircuitBreaker } from '../resilience/circuit-breaker.ts';

/** The breaker's transitions in the shape of the actuator endpoint the original walkthrough reads. */
export function circuitBreakerRoutes(app: FastifyInstance, breakers: CircuitBreaker[]): void {
  const find = (name: string) => {
    const breaker = breakers.find((b) => b.name === name);
    if (!breaker) throw notFound(`No circuit breaker named ${name}`);
    return breaker;
  };
  app.get('/actuator/circuitbreakerevents', async () => ({ circuitBreakerEvents: breakers.flatMap((b) => b.events) }));
  app.get('/actuator/circuitbreakerevents/:name', async (request) =>
    ({ circuitBreakerEvents: find((request.params as { name: string }).name).events }));
  app.get('/actuator/circuitbreakerevents/:name/:type', async (request) => {
    const { name, type } = request.params as { name: string; type: string };
    return { circuitBreakerEvents: find(name).events.filter((e) => e.type === type) };
  });
}
