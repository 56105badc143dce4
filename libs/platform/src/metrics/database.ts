import type { PoolStats } from '../storage/index.ts';
import type { Metrics } from './registry.ts';

/**
 * The connection pool as OpenTelemetry's database client metrics name it, read at each scrape.
 * SQLite has no pool, so a service on it has none of these series.
 */
export function databasePoolMetrics(
  metrics: Metrics,
  database: { pool(): PoolStats | undefined },
  poolName: string,
): void {
  if (database.pool() === undefined) return;
  const pool = { db_client_connection_pool_name: poolName };
  metrics.gauge(
    'db_client_connection_count',
    'Connections of the pool, by state (used or idle)',
    ['db_client_connection_pool_name', 'db_client_connection_state'],
    (gauge) => {
      const stats = database.pool();
      if (!stats) return;
      gauge.set({ ...pool, db_client_connection_state: 'used' }, stats.total - stats.idle);
      gauge.set({ ...pool, db_client_connection_state: 'idle' }, stats.idle);
    },
  );
  metrics.gauge(
    'db_client_connection_pending_requests',
    'Queries waiting for a connection of the pool',
    ['db_client_connection_pool_name'],
    (gauge) => {
      gauge.set(pool, database.pool()?.waiting ?? 0);
    },
  );
  metrics.gauge(
    'db_client_connection_max',
    'Most connections the pool opens',
    ['db_client_connection_pool_name'],
    (gauge) => {
      gauge.set(pool, database.pool()?.max ?? 0);
    },
  );
}
