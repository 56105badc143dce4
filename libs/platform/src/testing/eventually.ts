import { setTimeout as sleep } from 'node:timers/promises';

export interface EventuallyOptions {
  /** How long the check may keep failing before the wait fails; only a failure limit. */
  timeoutMs?: number;
  /** The pause between two tries. */
  intervalMs?: number;
  /** What is awaited, for the message when a check that returns `false` never passes. */
  what?: string;
}

/**
 * Retries a check until it passes: a check that throws, or returns exactly `false`, is tried again after a
 * pause. Resolves with the check's first passing result. When the bound is reached the last failure is
 * rethrown, or, if the check last returned `false`, an error that names `what` is thrown. A number for
 * `options` is the timeout.
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  options: number | EventuallyOptions = {},
): Promise<Exclude<T, false>> {
  const { timeoutMs = 15000, intervalMs = 25, what } = typeof options === 'number' ? { timeoutMs: options } : options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let failure: unknown;
    try {
      const result = await check();
      if (result !== false) return result as Exclude<T, false>;
      failure = new Error(`Timed out after ${timeoutMs} ms waiting for ${what ?? 'the condition to hold'}`);
    } catch (error) {
      failure = error;
    }
    if (Date.now() > deadline) throw failure;
    await sleep(intervalMs);
  }
}
