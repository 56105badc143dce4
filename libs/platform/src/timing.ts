/**
 * Settles as `work` does, or rejects with `onTimeout()` once `ms` have passed; the timer is cleared either
 * way, so a race that is over never keeps the process alive.
 */
export async function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), Math.max(0, ms));
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** 2 unless given: every retry waits twice as long as the one before. */
  multiplier?: number;
}

/** The wait before retry number `retry` (0 for the first): exponential from initialMs, never above maxMs. */
export function backoffDelay(retry: number, { initialMs, maxMs, multiplier = 2 }: BackoffPolicy): number {
  // The exponent is capped so a long outage cannot overflow to Infinity (and 0 * Infinity to NaN).
  return Math.min(maxMs, initialMs * multiplier ** Math.min(Math.max(0, retry), 64));
}
