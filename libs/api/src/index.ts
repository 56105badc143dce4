export * from './core.ts';
export * from './events.ts';
export * from './composite.ts';
