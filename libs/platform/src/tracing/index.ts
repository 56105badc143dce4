export * from './config.ts';
export * from './tracing.ts';
export * from './store.ts';
export * from './http.ts';
export * from './messaging.ts';
export * from './viewer.ts';
export * from './database.ts';
