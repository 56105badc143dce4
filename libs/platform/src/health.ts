import { errorMessage } from './errors.ts';
import { withTimeout } from './timing.ts';

export type Status = 'UP' | 'DOWN' | 'OUT_OF_SERVICE';

export interface HealthResult {
  status: Status;
  details?: Record<string, unknown>;
}

/** One part of the service's health; `readiness` parts decide whether it takes traffic. */
export interface HealthContributor {
  name: string;
  readiness: boolean;
  check(): HealthResult | Promise<HealthResult>;
}

export interface HealthReport {
  status: Status;
  components?: Record<string, HealthResult>;
}

const CHECK_TIMEOUT_MS = 2000;

async function run(contributor: HealthContributor): Promise<HealthResult> {
  try {
    return await withTimeout(
      Promise.resolve().then(() => contributor.check()),
      CHECK_TIMEOUT_MS,
      () => new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`),
    );
  } catch (error) {
    return { status: 'DOWN', details: { error: errorMessage(error) } };
  }
}

/** Health as the actuator endpoints report it; shutting down takes the service out of readiness first. */
export class Health {
  readonly #contributors: HealthContributor[] = [];
  #accepting = true;

  add(contributor: HealthContributor): void {
    this.#contributors.push(contributor);
  }

  /** Called at the start of a graceful shutdown so load balancers stop sending traffic. */
  stopAccepting(): void {
    this.#accepting = false;
  }

  liveness(): HealthReport {
    return { status: 'UP' };
  }

  async readiness(): Promise<HealthReport> {
    const report = await this.#report(this.#contributors.filter((c) => c.readiness));
    return this.#accepting ? report : { ...report, status: 'OUT_OF_SERVICE' };
  }

  async overall(): Promise<HealthReport> {
    const report = await this.#report(this.#contributors);
    report.components = {
      ...report.components,
      livenessState: { status: 'UP' },
      readinessState: { status: this.#accepting && report.status === 'UP' ? 'UP' : 'OUT_OF_SERVICE' },
    };
    return report;
  }

  async #report(contributors: HealthContributor[]): Promise<HealthReport> {
    const results = await Promise.all(contributors.map(run));
    const components = Object.fromEntries(contributors.map((c, i) => [c.name, results[i] as HealthResult]));
    const status: Status = results.every((r) => r.status === 'UP') ? 'UP' : 'DOWN';
    return { status, components };
  }
}
