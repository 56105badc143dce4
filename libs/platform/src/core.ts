// The part of the platform with no web framework, database or broker client behind it: what the edge,
// a plain node:http server, needs. Loading only this keeps fastify, Kysely and the drivers out of its
// process or thread.
export * from './config.ts';
export * from './errors.ts';
export * from './health.ts';
export * from './drain.ts';
export * from './log.ts';
export * from './raw-http.ts';
export * from './timing.ts';
export * from './metrics/index.ts';
export * from './tracing/index.ts';
// No broker client behind it: how the all-in-one process shares its in-process bus between two threads.
export { connectBus, serveBus } from './messaging/thread-bus.ts';
