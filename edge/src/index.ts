export * from './certificates.ts';
export * from './config.ts';
export * from './edge.ts';
export * from './routes.ts';
export * from './acme.ts';
export * from './management.ts';
export * from './service.ts';
