import { createHash } from 'node:crypto';

export interface SignInThrottleSettings {
  /** Failed attempts for one username, through any client, before it must wait. */
  maxFailuresPerUser: number;
  /** Failed attempts through one client, for any usernames, before it must wait. */
  maxFailuresPerClient: number;
  windowSeconds: number;
  /** Usernames and clients remembered at once; the least recently failed are forgotten first. */
  maxTracked: number;
}

export interface SignInAttempt {
  client: string;
  user: string;
}

export interface SignInThrottle {
  /** Whole seconds to wait before this attempt may be checked, 0 when it may be checked now. */
  retryAfter(attempt: SignInAttempt): number;
  failed(attempt: SignInAttempt): void;
  succeeded(attempt: SignInAttempt): void;
  size(): number;
}

interface Window {
  failures: number;
  endsAt: number;
}

/**
 * Counts failed password checks per username and per client in fixed windows. The username counts
 * whether or not such a user exists, so the answers never tell an existing user from a made-up one.
 */
export function createSignInThrottle(settings: SignInThrottleSettings, now: () => number = Date.now): SignInThrottle {
  const windows = new Map<string, Window>();
  // Usernames are whatever a request sends, up to a body's size: remember a digest of fixed size instead.
  const userKey = (user: string) => `user:${createHash('sha256').update(user, 'utf8').digest('base64url')}`;
  const keys = ({ client, user }: SignInAttempt) => [
    { key: userKey(user), max: settings.maxFailuresPerUser },
    { key: `client:${client}`, max: settings.maxFailuresPerClient },
  ];
  const current = (key: string): Window | undefined => {
    const window = windows.get(key);
    if (window && window.endsAt <= now()) {
      windows.delete(key);
      return undefined;
    }
    return window;
  };

  return {
    retryAfter(attempt) {
      let wait = 0;
      for (const { key, max } of keys(attempt)) {
        const window = current(key);
        if (window && window.failures >= max) wait = Math.max(wait, Math.ceil((window.endsAt - now()) / 1000));
      }
      return wait;
    },
    failed(attempt) {
      for (const { key } of keys(attempt)) {
        const window = current(key) ?? { failures: 0, endsAt: now() + settings.windowSeconds * 1000 };
        window.failures += 1;
        // Re-inserted, so the map's order is least recently failed first.
        windows.delete(key);
        windows.set(key, window);
        while (windows.size > settings.maxTracked) windows.delete(windows.keys().next().value as string);
      }
    },
    succeeded({ user }) {
      windows.delete(userKey(user));
    },
    size: () => windows.size,
  };
}
