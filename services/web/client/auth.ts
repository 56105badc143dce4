// Sign-in with authorization code and PKCE (S256) against the auth server behind the same edge.
// The access token lives in this module's memory only: never in storage, a cookie or a URL, so a
// reload forgets it (signing in again is one click while the auth server's session lasts). Only the
// PKCE verifier and the state survive the round trip to the sign-in page, in sessionStorage, and are
// removed when it returns. The code comes back in the URL fragment, which no server sees.

export interface Session {
  accessToken: string;
  user: string;
  scopes: string[];
}

const pendingKey = 'store.pending-sign-in';
const scope = 'product:read product:write';
let session: Session | undefined;
/** After a sign-out the next sign-in asks for the password again instead of reusing the auth server's session. */
let signedOut = false;

export const currentSession = (): Session | undefined => session;
export const redirectUri = (): string => `${location.origin}/store/`;

export async function signIn(clientId: string): Promise<void> {
  const verifier = randomText(32);
  const state = randomText(16);
  const challenge = base64url(
    new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))),
  );
  sessionStorage.setItem(pendingKey, JSON.stringify({ state, verifier, returnTo: location.hash }));
  const query = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    response_mode: 'fragment',
    redirect_uri: redirectUri(),
    scope,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...(signedOut ? { prompt: 'login' } : {}),
  });
  location.assign(`/oauth/authorize?${query}`);
}

export function signOut(): void {
  session = undefined;
  signedOut = true;
}

/**
 * Finishes a sign-in when the page was opened by the auth server's redirect: checks the state, takes
 * the code out of the address bar at once, and exchanges it with the verifier. Returns the view the
 * user started from, or undefined when this was no sign-in answer.
 */
export async function completeSignIn(clientId: string, issuer: string): Promise<string | undefined> {
  const answer = new URLSearchParams(location.hash.slice(1));
  if (!answer.has('code') && !answer.has('error')) return undefined;
  const pending = readPending();
  sessionStorage.removeItem(pendingKey);
  const returnTo = pending?.returnTo && !pending.returnTo.includes('=') ? pending.returnTo : '#product';
  history.replaceState(null, '', `${location.pathname}${returnTo}`);
  if (!pending || answer.get('state') !== pending.state) {
    throw new Error('Sign-in refused: the answer does not belong to a sign-in this page started (state mismatch).');
  }
  // RFC 9207: an answer naming another issuer comes from a server this page did not ask.
  const from = answer.get('iss');
  if (from !== null && from !== issuer)
    throw new Error(`Sign-in refused: the answer comes from ${from}, not from ${issuer}.`);
  const error = answer.get('error');
  if (error) throw new Error(`Sign-in did not complete: ${answer.get('error_description') ?? error}`);
  const response = await fetch('/oauth/token', {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: answer.get('code') ?? '',
      redirect_uri: redirectUri(),
      client_id: clientId,
      code_verifier: pending.verifier,
    }),
  });
  const body = (await response.json().catch(() => ({}))) as {
    access_token?: string;
    error?: string;
    error_description?: string;
  };
  if (!response.ok || !body.access_token)
    throw new Error(
      `Sign-in failed at the token endpoint (${response.status}): ${body.error_description ?? body.error ?? 'no token'}`,
    );
  // Read for display only; the composite verifies the token itself.
  const claims = JSON.parse(new TextDecoder().decode(fromBase64url(body.access_token.split('.')[1] ?? ''))) as {
    sub?: string;
    scope?: string;
  };
  session = {
    accessToken: body.access_token,
    user: claims.sub ?? 'unknown',
    scopes: (claims.scope ?? '').split(' ').filter(Boolean),
  };
  signedOut = false;
  return returnTo;
}

function readPending(): { state: string; verifier: string; returnTo: string } | undefined {
  try {
    const value = JSON.parse(sessionStorage.getItem(pendingKey) ?? 'null') as {
      state?: unknown;
      verifier?: unknown;
      returnTo?: unknown;
    } | null;
    if (typeof value?.state === 'string' && typeof value.verifier === 'string')
      return { state: value.state, verifier: value.verifier, returnTo: String(value.returnTo ?? '') };
  } catch {
    /* a damaged entry is no pending sign-in */
  }
  return undefined;
}

function randomText(bytes: number): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

function fromBase64url(text: string): Uint8Array {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}
