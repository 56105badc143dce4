/**
 * What the operator page shows, read over the services' internal URLs: each service's liveness and
 * readiness as UP, DOWN or UNREACHABLE, and the composite circuit breaker's state and recent transitions.
 * Only those words leave this module: no component details (database kinds, consumer errors, addresses),
 * which the edge keeps off the public side for every service but the composite's own health.
 */
export type ProbeStatus = 'UP' | 'DOWN' | 'UNREACHABLE';

export interface OperatorSummary {
  services: Array<{ name: string; liveness: ProbeStatus; readiness: ProbeStatus }>;
  circuitBreaker: { state: string; transitions: Array<{ stateTransition: string; creationTime: string }> };
}

export interface OperatorSettings {
  services: Record<string, string>;
  compositeUrl: string;
  checkTimeoutMs: number;
}

export function createOperatorView(settings: OperatorSettings, fetchFn: typeof fetch = fetch) {
  const get = async (url: string): Promise<{ status: number; body: unknown } | undefined> => {
    try {
      const response = await fetchFn(url, { signal: AbortSignal.timeout(settings.checkTimeoutMs) });
      const body: unknown = await response.json().catch(() => undefined);
      return { status: response.status, body };
    } catch {
      return undefined;
    }
  };
  const probe = async (base: string, which: 'liveness' | 'readiness'): Promise<ProbeStatus> => {
    const answer = await get(`${base}/actuator/health/${which}`);
    if (!answer) return 'UNREACHABLE';
    return answer.status === 200 && field(answer.body, ['status']) === 'UP' ? 'UP' : 'DOWN';
  };

  return async function summary(): Promise<OperatorSummary> {
    const [services, health, events] = await Promise.all([
      Promise.all(
        Object.entries(settings.services).map(async ([name, base]) => {
          const [liveness, readiness] = await Promise.all([probe(base, 'liveness'), probe(base, 'readiness')]);
          return { name, liveness, readiness };
        }),
      ),
      get(`${settings.compositeUrl}/actuator/health`),
      get(`${settings.compositeUrl}/actuator/circuitbreakerevents/product/STATE_TRANSITION`),
    ]);
    const state = field(health?.body, ['components', 'circuitBreakers', 'details', 'product', 'details', 'state']);
    const listed = field(events?.body, ['circuitBreakerEvents']);
    const transitions = (Array.isArray(listed) ? listed : []).slice(-10).flatMap((event: unknown) => {
      const stateTransition = field(event, ['stateTransition']);
      const creationTime = field(event, ['creationTime']);
      return typeof stateTransition === 'string' && typeof creationTime === 'string'
        ? [{ stateTransition, creationTime }]
        : [];
    });
    return { services, circuitBreaker: { state: typeof state === 'string' ? state : 'UNKNOWN', transitions } };
  };
}

/** A nested field of an answer whose shape this service does not control. */
function field(value: unknown, path: string[]): unknown {
  let node = value;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}
