import { call, explain, type Composite } from './api.ts';
import { h, logLine, positiveInteger, sleep } from './dom.ts';

interface Summary {
  services: Array<{ name: string; liveness: string; readiness: string }>;
  circuitBreaker: { state: string; transitions: Array<{ stateTransition: string; creationTime: string }> };
}

interface Elements {
  rows: HTMLElement;
  state: HTMLElement;
  transitions: HTMLElement;
  form: HTMLFormElement;
  log: HTMLElement;
}

/** Enough calls for any window the breaker may be configured with; the cycle stops as soon as it sees the state. */
const maxCalls = 10;
const halfOpenWaitMs = 120000;

export function setUpOperatorView(elements: Elements): { start(): void; stop(): void } {
  let timer: ReturnType<typeof setInterval> | undefined;

  const refresh = async (): Promise<Summary | undefined> => {
    const answer = await call<Summary>('GET', '/store/api/operator').catch(() => undefined);
    if (answer?.status !== 200) {
      elements.state.textContent = answer
        ? `unknown: ${explain(answer)}`
        : 'unknown (the operator summary did not answer)';
      elements.rows.replaceChildren();
      elements.transitions.replaceChildren();
      return undefined;
    }
    const { services, circuitBreaker } = answer.body;
    const cell = (status: string) => h('td', { class: status }, status);
    elements.rows.replaceChildren(
      ...services.map((s) => h('tr', {}, h('th', { scope: 'row' }, s.name), cell(s.liveness), cell(s.readiness))),
    );
    elements.state.textContent = circuitBreaker.state;
    elements.transitions.replaceChildren(
      ...circuitBreaker.transitions.map((t) => h('li', {}, `${t.stateTransition} at ${t.creationTime}`)),
    );
    return answer.body;
  };
  const breakerState = async () => (await refresh())?.circuitBreaker.state;

  /** Calls until the breaker is in `state`; false when it never got there. */
  const callUntil = async (
    state: string,
    path: string,
    describe: (answer: { status: number; body: unknown }) => string,
  ) => {
    for (let i = 1; i <= maxCalls; i++) {
      if ((await breakerState()) === state) return true;
      const answer = await call<Composite>('GET', path);
      logLine(elements.log, `Call ${i}: ${describe(answer)}`);
      if (answer.status === 401 || answer.status === 403) throw new Error(explain(answer));
    }
    return (await breakerState()) === state;
  };

  elements.form.addEventListener('submit', (event) => {
    event.preventDefault();
    const button = elements.form.querySelector('button');
    void (async () => {
      elements.log.replaceChildren();
      if (button) button.disabled = true;
      try {
        const id = positiveInteger(elements.form, 'productId', 'Product id for the cycle');
        const fault = new FormData(elements.form).get('fault') === 'delay' ? 'delay=3' : 'faultPercent=100';
        const initial = await breakerState();
        if (initial !== 'CLOSED')
          throw new Error(`The breaker is ${initial ?? 'unknown'}; wait for it to be CLOSED before starting a cycle.`);
        logLine(elements.log, `Breaker CLOSED. Calling product ${id} with ${fault} until it opens…`, 'state');
        const opened = await callUntil('OPEN', `/product-composite/${id}?${fault}`, (a) =>
          a.status === 200 ? `200 ${(a.body as Composite).name}` : explain(a),
        );
        if (!opened)
          throw new Error('The breaker did not open: are faults enabled (faults.enabled) for this landscape?');
        const fallback = await call<Composite>('GET', `/product-composite/${id}`);
        logLine(
          elements.log,
          `Breaker OPEN. A normal call now gets the fallback: ${fallback.status === 200 ? fallback.body.name : explain(fallback)}`,
          'state',
        );
        logLine(elements.log, 'Waiting for the breaker to go HALF_OPEN…');
        const deadline = Date.now() + halfOpenWaitMs;
        while ((await breakerState()) !== 'HALF_OPEN') {
          if (Date.now() > deadline) throw new Error('The breaker did not go HALF_OPEN.');
          await sleep(500);
        }
        logLine(elements.log, 'Breaker HALF_OPEN. Making normal calls until it closes…', 'state');
        const closed = await callUntil('CLOSED', `/product-composite/${id}`, (a) =>
          a.status === 200 ? `200 ${(a.body as Composite).name}` : explain(a),
        );
        if (!closed) throw new Error('The breaker did not close again.');
        logLine(elements.log, 'Breaker CLOSED again: the cycle is complete.', 'ok');
      } catch (error) {
        logLine(elements.log, (error as Error).message, 'error');
      } finally {
        if (button) button.disabled = false;
      }
    })();
  });

  return {
    start() {
      void refresh();
      timer ??= setInterval(() => void refresh(), 1000);
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
