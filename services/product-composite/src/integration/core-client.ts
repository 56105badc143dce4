import { Agent, request } from 'undici';
import { Type } from 'typebox';
import { Compile } from 'typebox/compile';
import { ProductResponse, RecommendationResponse, ReviewResponse } from '@landscape/api';
import { HttpError } from '@landscape/platform';

/** A compiled contract check. */
interface Checker<T> { Check(value: unknown): value is T }

export interface CoreUrls {
  productUrl: string;
  recommendationUrl: string;
  reviewUrl: string;
}

/** A call that got no answer within its time limit; the message is the one the original system gave. */
export class CallTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`Did not observe any item or terminal signal within ${timeoutMs}ms in 'onErrorResume' (and no fallback has been configured)`);
    this.name = 'CallTimeoutError';
  }
}

export type CoreClient = ReturnType<typeof createCoreClient>;

// Compiled once: checking every core answer against its contract is on the composite's hot path.
const answers = {
  product: Compile(ProductResponse),
  recommendations: Compile(Type.Array(RecommendationResponse)),
  reviews: Compile(Type.Array(ReviewResponse)),
};

/**
 * Calls to the core services over one pooled keep-alive agent. A core service's 4xx and 5xx answers
 * become HttpErrors with its status and message, so the composite can pass them on.
 */
export function createCoreClient(urls: CoreUrls, options: { timeoutMs: number; connections?: number }) {
  const agent = new Agent({ keepAliveTimeout: 30000, connections: options.connections ?? 64 });

  async function getJson<T>(url: string, schema: Checker<T>): Promise<T> {
    // A timer cleared on completion: AbortSignal.timeout() would keep one alive per call for its full span.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), options.timeoutMs);
    try {
      return await fetchJson(url, schema, controller.signal);
    } finally {
      clearTimeout(timer);
    }
  }

  async function fetchJson<T>(url: string, schema: Checker<T>, signal: AbortSignal): Promise<T> {
    let response;
    try {
      response = await request(url, { dispatcher: agent, signal });
    } catch (error) {
      if (signal.aborted) throw new CallTimeoutError(options.timeoutMs);
      throw new HttpError(502, `${new URL(url).host} unreachable: ${(error as Error).message}`);
    }
    let body: unknown;
    try {
      body = await response.body.json();
    } catch {
      if (signal.aborted) throw new CallTimeoutError(options.timeoutMs);
      throw new HttpError(502, `${new URL(url).host} answered ${response.statusCode} without a JSON body`);
    }
    if (response.statusCode >= 400) {
      const message = (body as { message?: unknown } | null)?.message;
      throw new HttpError(response.statusCode, typeof message === 'string' ? message : `${new URL(url).host} answered ${response.statusCode}`);
    }
    // A core service answering something else than its contract is a bad gateway, not our crash.
    if (!schema.Check(body)) throw new HttpError(502, `${new URL(url).host} answered a body that does not match its contract`);
    return body;
  }

  return {
    getProduct(productId: number, faults: { delay?: number; faultPercent?: number } = {}): Promise<ProductResponse> {
      const query = new URLSearchParams();
      if (faults.delay !== undefined) query.set('delay', String(faults.delay));
      if (faults.faultPercent !== undefined) query.set('faultPercent', String(faults.faultPercent));
      const suffix = query.size > 0 ? `?${query}` : '';
      return getJson(`${urls.productUrl}/product/${productId}${suffix}`, answers.product);
    },
    getRecommendations(productId: number): Promise<RecommendationResponse[]> {
      return getJson(`${urls.recommendationUrl}/recommendation?productId=${productId}`, answers.recommendations);
    },
    getReviews(productId: number): Promise<ReviewResponse[]> {
      return getJson(`${urls.reviewUrl}/review?productId=${productId}`, answers.reviews);
    },
    close: () => agent.close(),
  };
}
