export * from '@opentelemetry/api';
