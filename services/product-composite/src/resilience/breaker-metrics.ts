import type { Metrics } from '@landscape/platform';
import type { State } from './circuit-breaker.ts';

const STATES: readonly State[] = ['CLOSED', 'OPEN', 'HALF_OPEN'];

/**
 * The breakers' state as one series per state (1 for the current one, as Resilience4j exports it,
 * so `circuit_breaker_state{state="open"} == 1` alerts), read at each scrape, and their transitions.
 */
export function breakerMetrics(metrics: Metrics) {
  const watched: Array<{ name: string; state: State }> = [];
  metrics.gauge(
    'circuit_breaker_state',
    "The circuit breaker's state: 1 on the series of its current state",
    ['name', 'state'],
    (gauge) => {
      for (const breaker of watched) {
        // Reading the state moves an OPEN breaker whose wait is over to HALF_OPEN, as a call would.
        const current = breaker.state;
        for (const state of STATES)
          gauge.set({ name: breaker.name, state: state.toLowerCase() }, state === current ? 1 : 0);
      }
    },
  );
  const transitions = metrics.counter('circuit_breaker_transitions_total', 'State transitions of the circuit breaker', [
    'name',
    'from_state',
    'to_state',
  ]);
  const count = (name: string, from: State, to: State, by = 1) =>
    transitions.inc({ name, from_state: from.toLowerCase(), to_state: to.toLowerCase() }, by);
  return {
    /** The listener the breaker of that name calls on each transition. */
    transitions(name: string): (from: State, to: State) => void {
      // The cycle's transitions exist at zero from the start, so an increase over them is defined.
      for (const [from, to] of [
        ['CLOSED', 'OPEN'],
        ['OPEN', 'HALF_OPEN'],
        ['HALF_OPEN', 'CLOSED'],
        ['HALF_OPEN', 'OPEN'],
      ] as const)
        count(name, from, to, 0);
      return (from, to) => count(name, from, to);
    },
    /** Shows this breaker's state from now on. */
    watch(breaker: { name: string; state: State }): void {
      watched.push(breaker);
    },
  };
}
