export * from './certificates.ts';
export * from './config.ts';
export * from './edge.ts';
export * from './routes.ts';
