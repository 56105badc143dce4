/**
 * A count-based circuit breaker with the semantics the contract borrows from Resilience4j: a window of
 * the last N recorded calls, OPEN when the failure rate reaches the threshold, HALF_OPEN automatically
 * after the wait, a fixed number of trial calls there, and outcomes the caller marks as ignored
 * (404, 422) recorded as neither success nor failure.
 */
export type State = 'CLOSED' | 'OPEN' | 'HALF_OPEN';
export type Outcome = 'success' | 'failure' | 'ignored';

export interface BreakerSettings {
  windowSize: number;
  failureRateThreshold: number;
  waitInOpenMs: number;
  halfOpenCalls: number;
  eventBufferSize: number;
}

export interface TransitionEvent {
  circuitBreakerName: string;
  type: 'STATE_TRANSITION';
  creationTime: string;
  stateTransition: string;
}

export class CallNotPermittedError extends Error {
  constructor(name: string) {
    super(`CircuitBreaker '${name}' is OPEN and does not permit further calls`);
    this.name = 'CallNotPermittedError';
  }
}

export class CircuitBreaker {
  readonly name: string;
  readonly #settings: BreakerSettings;
  readonly #now: () => number;
  #state: State = 'CLOSED';
  #window: boolean[] = [];
  #openedAt = 0;
  #halfOpenPermits = 0;
  readonly #events: TransitionEvent[] = [];
  readonly #onTransition: ((from: State, to: State) => void) | undefined;

  constructor(
    name: string,
    settings: BreakerSettings,
    now: () => number = Date.now,
    onTransition?: (from: State, to: State) => void,
  ) {
    this.name = name;
    this.#settings = settings;
    this.#now = now;
    this.#onTransition = onTransition;
  }

  /** The state now; an OPEN breaker whose wait is over has moved to HALF_OPEN even without a call. */
  get state(): State {
    if (this.#state === 'OPEN' && this.#now() - this.#openedAt >= this.#settings.waitInOpenMs) {
      this.#transition('HALF_OPEN', this.#openedAt + this.#settings.waitInOpenMs);
    }
    return this.#state;
  }

  get events(): readonly TransitionEvent[] {
    void this.state;
    return this.#events;
  }

  metrics() {
    const failed = this.#window.filter((ok) => !ok).length;
    return {
      state: this.state,
      failureRate:
        this.#window.length < this.#windowSize() ? -1 : Math.round((failed / this.#window.length) * 1000) / 10,
      bufferedCalls: this.#window.length,
      failedCalls: failed,
    };
  }

  /** Runs the call if the breaker permits it, recording its outcome as `classify` says. */
  async run<T>(call: () => Promise<T>, classify: (error: unknown) => Outcome): Promise<T> {
    this.#acquire();
    try {
      const result = await call();
      this.#record('success');
      return result;
    } catch (error) {
      this.#record(classify(error));
      throw error;
    }
  }

  #windowSize(): number {
    return this.#state === 'HALF_OPEN' ? this.#settings.halfOpenCalls : this.#settings.windowSize;
  }

  #acquire(): void {
    const state = this.state;
    if (state === 'OPEN') throw new CallNotPermittedError(this.name);
    if (state === 'HALF_OPEN') {
      if (this.#halfOpenPermits <= 0) throw new CallNotPermittedError(this.name);
      this.#halfOpenPermits -= 1;
    }
  }

  #record(outcome: Outcome): void {
    if (this.#state === 'HALF_OPEN' && outcome === 'ignored') this.#halfOpenPermits += 1;
    if (outcome === 'ignored' || this.#state === 'OPEN') return;
    this.#window.push(outcome === 'success');
    const size = this.#windowSize();
    if (this.#window.length > size) this.#window.shift();
    if (this.#window.length < size) return;
    const failureRate = (this.#window.filter((ok) => !ok).length / this.#window.length) * 100;
    if (failureRate >= this.#settings.failureRateThreshold) this.#transition('OPEN', this.#now());
    else if (this.#state === 'HALF_OPEN') this.#transition('CLOSED', this.#now());
  }

  #transition(to: State, at: number): void {
    const from = this.#state;
    this.#state = to;
    this.#window = [];
    if (to === 'OPEN') this.#openedAt = at;
    if (to === 'HALF_OPEN') this.#halfOpenPermits = this.#settings.halfOpenCalls;
    this.#events.push({
      circuitBreakerName: this.name,
      type: 'STATE_TRANSITION',
      creationTime: new Date(at).toISOString(),
      stateTransition: `${from}_TO_${to}`,
    });
    if (this.#events.length > this.#settings.eventBufferSize) this.#events.shift();
    this.#onTransition?.(from, to);
  }
}
