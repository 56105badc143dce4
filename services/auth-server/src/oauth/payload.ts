import type { AdapterPayload } from '@landscape/vendor/oidc-provider';

/** Entries without an expiry (oidc-provider gives one for every kind this server stores) never end. */
export const NEVER = Number.MAX_SAFE_INTEGER;

export function expiryOf(expiresIn: number | undefined, now: number): number {
  return expiresIn === undefined ? NEVER : now + expiresIn * 1000;
}

/**
 * A stored payload read back: JSON of an object, or nothing. A row or key that is not (written by
 * something else, cut short) reads as absent, which oidc-provider treats as an ended sign-in.
 */
export function parsePayload(
  text: string | null | undefined,
  consumed: number | null | undefined,
): AdapterPayload | undefined {
  if (typeof text !== 'string') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const payload = parsed as AdapterPayload;
  return consumed === null || consumed === undefined ? payload : { ...payload, consumed };
}
