import { context, SpanKind, trace } from '@landscape/vendor/@opentelemetry/api';
import type { LogEvent } from 'kysely';
import type { DatabaseConfig } from '../storage/config.ts';
import { codeOf } from '../errors.ts';
import { markFailed, type Tracing } from './tracing.ts';

const SYSTEMS: Record<DatabaseConfig['kind'], string> = { postgres: 'postgresql', mysql: 'mysql', sqlite: 'sqlite' };

/** `select … from "products" …` → `SELECT` and `products`: what names a query's span without its values. */
export function summariseQuery(text: string): { operation: string; collection?: string } {
  const operation = /^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? 'QUERY';
  const collection = /\b(?:from|into|update|join)\s+[`"]?(\w+)[`"]?/i.exec(text)?.[1];
  return collection ? { operation, collection } : { operation };
}

/**
 * A CLIENT span for every query run inside a traced request or event, with the stable database
 * conventions (`db.system.name`, `db.namespace`, `db.operation.name`, `db.collection.name`, and the
 * query text, which holds placeholders and never the values). Kysely reports a query once it is done,
 * so the span starts at its measured duration before now. Queries outside any trace (migrations at
 * start-up) make no spans.
 */
export function queryTracer(tracing: Tracing, config: DatabaseConfig): ((event: LogEvent) => void) | undefined {
  if (!tracing.enabled) return undefined;
  const server =
    config.kind === 'sqlite'
      ? {}
      : { 'server.address': config.host ?? '', 'server.port': config.port ?? (config.kind === 'mysql' ? 3306 : 5432) };
  const namespace = config.kind === 'sqlite' ? (config.file ?? '') : (config.database ?? '');
  return (event) => {
    if (!trace.getSpan(context.active())) return;
    const text = event.query.sql;
    const { operation, collection } = summariseQuery(text);
    const span = tracing.tracer.startSpan(collection ? `${operation} ${collection}` : operation, {
      kind: SpanKind.CLIENT,
      // The clock the SDK's own spans read, so the query sits inside its parent on the page.
      startTime: performance.timeOrigin + performance.now() - event.queryDurationMillis,
      attributes: {
        'db.system.name': SYSTEMS[config.kind],
        'db.namespace': namespace,
        'db.operation.name': operation,
        ...(collection ? { 'db.collection.name': collection } : {}),
        'db.query.text': text.slice(0, 2000),
        ...server,
      },
    });
    if (event.level === 'error') {
      const code = codeOf(event.error);
      // A driver's code (SQLSTATE, ER_*) says more than the error's class name.
      markFailed(span, event.error, code === undefined ? undefined : String(code));
    }
    span.end();
  };
}
