import { STATUS_CODES } from 'node:http';

/** An error whose status and message are meant for the client, in the contract's error shape. */
export class HttpError extends Error {
  readonly status: number;
  /** Extra response headers, such as a WWW-Authenticate challenge. */
  readonly headers: Record<string, string>;
  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.headers = headers;
  }
}

export const badRequest = (message: string) => new HttpError(400, message);
export const notFound = (message: string) => new HttpError(404, message);
export const unprocessable = (message: string) => new HttpError(422, message);

export interface ErrorBody {
  timestamp: string;
  path: string;
  status: number;
  error: string;
  message: string;
  requestId?: string;
}

export function errorBody(status: number, path: string, message: string, requestId?: string): ErrorBody {
  return {
    timestamp: new Date().toISOString(),
    path: path.split('?')[0] ?? path,
    status,
    error: STATUS_CODES[status] ?? 'Error',
    message,
    ...(requestId === undefined ? {} : { requestId }),
  };
}

/** A readable message even for errors that carry none (a refused connection to a host with two addresses). */
export function errorMessage(error: unknown): string {
  if (error instanceof AggregateError && error.message === '') {
    return error.errors.map(errorMessage).join('; ') || String(codeOf(error) ?? 'unknown error');
  }
  if (error instanceof Error) return error.message || String(codeOf(error) ?? error.name);
  return String(error);
}

export const codeOf = (error: unknown): unknown =>
  typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
