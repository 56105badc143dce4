import { INTEGER_TEXT, MAX_ID } from '@landscape/api';
import { badRequest, unprocessable } from './errors.ts';

const INTEGER = new RegExp(INTEGER_TEXT);

/** Parses an integer parameter the way the contract answers: not a 32-bit integer → 400 "Type mismatch.". */
export function parseIntParam(raw: unknown): number {
  if (typeof raw !== 'string' || !INTEGER.test(raw)) throw badRequest('Type mismatch.');
  const value = Number(raw);
  if (value > MAX_ID || value < -MAX_ID - 1) throw badRequest('Type mismatch.');
  return value;
}

/** A productId from a path or query parameter; below 1 → 422 "Invalid productId: -1". */
export function parseProductId(raw: unknown): number {
  const productId = parseIntParam(raw);
  if (productId < 1) throw unprocessable(`Invalid productId: ${productId}`);
  return productId;
}

/** Rejects query parameters an endpoint does not know, so a typo is an error rather than ignored. */
export function rejectUnknownQuery(query: unknown, known: readonly string[]): Record<string, unknown> {
  const params = (query ?? {}) as Record<string, unknown>;
  const unknown = Object.keys(params).find((name) => !known.includes(name));
  if (unknown !== undefined) throw badRequest(`Unknown query parameter: ${unknown}`);
  return params;
}

/** A required query productId, named in the error when it is missing. */
export function requireProductIdQuery(query: unknown): number {
  const params = rejectUnknownQuery(query, ['productId']);
  if (params['productId'] === undefined || params['productId'] === '') {
    throw badRequest("Required query parameter 'productId' is not present.");
  }
  return parseProductId(params['productId']);
}
