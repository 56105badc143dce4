export * from './core.ts';
export * from './events.ts';
export * from './product-id.ts';
export * from './consumer.ts';
export * from './composite.ts';
