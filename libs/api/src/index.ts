export * from './core.ts';
export * from './events.ts';
export * from './product-id.ts';
export * from './consumer.ts';
