import { currentSession } from './auth.ts';

export interface Answer<T = unknown> {
  status: number;
  body: T;
}

export interface Composite {
  productId: number;
  name: string;
  weight: number;
  recommendations: Array<{ recommendationId: number; author: string; rate: number }>;
  reviews: Array<{ reviewId: number; author: string; subject: string }>;
  serviceAddresses: { cmp: string; pro: string; rev: string; rec: string };
}

/** A call to the landscape through the edge, with the signed-in user's token when there is one. */
export async function call<T = unknown>(method: string, path: string, body?: unknown): Promise<Answer<T>> {
  const token = currentSession()?.accessToken;
  const response = await fetch(path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: kept as text */
  }
  return { status: response.status, body: parsed as T };
}

/** What a failed answer means for the person looking at the page. */
export function explain(answer: Answer): string {
  const message =
    typeof answer.body === 'object' && answer.body !== null && 'message' in answer.body
      ? String(answer.body.message)
      : '';
  switch (answer.status) {
    case 401:
      return 'Not signed in, or the sign-in has expired (401). Sign in and try again.';
    case 403:
      return 'Signed in, but this sign-in lacks the scope this needs (403).';
    case 404:
      return `Not found (404): ${message}`;
    case 422:
      return `Invalid input (422): ${message}`;
    case 400:
      return `Bad request (400): ${message}`;
    case 502:
    case 503:
    case 504:
      return `The landscape could not answer (${answer.status}): ${message}`;
    default:
      return `Request failed (${answer.status})${message ? `: ${message}` : ''}`;
  }
}
