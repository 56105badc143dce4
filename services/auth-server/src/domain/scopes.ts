export type ScopeDecision =
  | { ok: true; scopes: string[] }
  | { ok: false; scope: string; reason: 'unknown' | 'not allowed' };

/**
 * Which scopes a request gets: every requested scope must be one the server knows and the client may
 * ask for; a request naming none gets all the client may ask for.
 */
export function decideScopes(
  requested: string | undefined,
  allowed: readonly string[],
  known: ReadonlySet<string>,
): ScopeDecision {
  const names = [...new Set((requested ?? '').split(' ').filter(Boolean))];
  if (names.length === 0) return { ok: true, scopes: [...allowed] };
  for (const scope of names) {
    if (!known.has(scope)) return { ok: false, scope, reason: 'unknown' };
    if (!allowed.includes(scope)) return { ok: false, scope, reason: 'not allowed' };
  }
  return { ok: true, scopes: names };
}
