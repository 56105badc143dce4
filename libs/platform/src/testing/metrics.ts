import assert from 'node:assert/strict';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  text: string;
  /** Metric family name → its TYPE (counter, gauge, histogram, …). */
  families: Map<string, string>;
  samples: Sample[];
  /** The sum of the samples of that name whose labels include the given ones. */
  value(name: string, labels?: Record<string, string>): number;
  /** The samples of that name whose labels include the given ones. */
  series(name: string, labels?: Record<string, string>): Sample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Reads the Prometheus text exposition format, refusing any line it does not understand. */
export function parsePrometheusText(text: string): Scrape {
  const families = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('# HELP ')) continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      families.set(type[1] as string, type[2] as string);
      continue;
    }
    const sample = SAMPLE.exec(line);
    assert.ok(sample, `not a Prometheus text line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, name, value] of (sample[2] ?? '').matchAll(LABEL))
      labels[name as string] = (value as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    samples.push({ name: sample[1] as string, labels, value: Number(sample[3]) });
  }
  const series = (name: string, labels: Record<string, string> = {}) =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return {
    text,
    families,
    samples,
    series,
    value: (name, labels) => series(name, labels).reduce((sum, s) => sum + s.value, 0),
  };
}

/** GET /actuator/prometheus of a service at that base URL, checked for its status and content type. */
export async function scrape(base: string): Promise<Scrape> {
  const response = await fetch(`${base}/actuator/prometheus`);
  assert.equal(response.status, 200, `${base}/actuator/prometheus`);
  assert.equal(response.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  return parsePrometheusText(await response.text());
}

/** The request histogram's count for one route (and optionally status) of a scrape. */
export const requestCount = (scraped: Scrape, route: string, labels: Record<string, string> = {}) =>
  scraped.value('http_server_request_duration_seconds_count', { http_route: route, ...labels });

/**
 * What every core service's endpoint must show after its tests: `path` asked three more times counts
 * three more under `route`; its consumer's counters agree with its dead letters; a server database
 * shows its pool, SQLite none.
 */
export async function assertServiceMetrics(options: {
  base: string;
  path: string;
  route: string;
  queue: { destination: string; group: string };
  engine: 'sqlite' | 'postgres' | 'mysql';
  service: string;
  deadLetters: number;
}): Promise<void> {
  const { base, path, route, queue, engine } = options;
  const before = requestCount(await scrape(base), route, {
    http_request_method: 'GET',
    http_response_status_code: '200',
  });
  for (let i = 0; i < 3; i += 1) assert.equal((await fetch(`${base}${path}`)).status, 200, path);
  const scraped = await scrape(base);
  assert.equal(
    requestCount(scraped, route, { http_request_method: 'GET', http_response_status_code: '200' }),
    before + 3,
  );
  const labels = { messaging_destination_name: queue.destination, messaging_consumer_group_name: queue.group };
  assert.ok(scraped.value('messaging_process_total', labels) > 0, 'events processed');
  assert.equal(scraped.value('messaging_process_dead_lettered_total', labels), options.deadLetters);
  assert.ok(
    scraped.value('messaging_process_retried_total', { ...labels, reason: 'rejected' }) >= options.deadLetters * 2,
    'each dead letter was retried',
  );
  const pool = { db_client_connection_pool_name: options.service };
  if (engine === 'sqlite') {
    assert.equal(scraped.families.has('db_client_connection_count'), false, 'SQLite has no pool');
  } else {
    assert.ok(scraped.value('db_client_connection_max', pool) > 0, 'pool size');
    assert.ok(scraped.value('db_client_connection_count', pool) >= 1, 'an open connection');
    assert.equal(scraped.series('db_client_connection_pending_requests', pool).length, 1);
  }
}
