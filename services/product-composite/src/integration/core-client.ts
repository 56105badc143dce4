import { Agent } from 'undici';
import { Type } from 'typebox';
import { Compile } from 'typebox/compile';
import { ProductResponse, RecommendationResponse, ReviewResponse } from '@landscape/api';
import { HttpError } from '@landscape/platform';

interface Core { origin: string; prefix: string; host: string }
interface Call { core: Core; path: string }

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
  // Each core service's URL parsed once; a call names its origin and path, so nothing is parsed per call.
  const core = (url: string): Core => {
    const parsed = new URL(url);
    return { origin: parsed.origin, prefix: parsed.pathname.replace(/\/+$/, ''), host: parsed.host };
  };
  const product = core(urls.productUrl);
  const recommendation = core(urls.recommendationUrl);
  const review = core(urls.reviewUrl);

  async function getJson<T>(call: Call, schema: Checker<T>): Promise<T> {
    // A timer cleared on completion: AbortSignal.timeout() would keep one alive per call for its full span.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), options.timeoutMs);
    try {
      return await fetchJson(call, schema, controller.signal);
    } finally {
      clearTimeout(timer);
    }
  }

  async function fetchJson<T>({ core: { origin, prefix, host }, path }: Call, schema: Checker<T>, signal: AbortSignal): Promise<T> {
    let response;
    try {
      response = await agent.request({ origin, path: `${prefix}${path}`, method: 'GET', signal });
    } catch (error) {
      if (signal.aborted) throw new CallTimeoutError(options.timeoutMs);
      throw new HttpError(502, `${host} unreachable: ${(error as Error).message}`);
    }
    let body: unknown;
    try {
      body = await response.body.json();
    } catch {
      if (signal.aborted) throw new CallTimeoutError(options.timeoutMs);
      throw new HttpError(502, `${host} answered ${response.statusCode} without a JSON body`);
    }
    if (response.statusCode >= 400) {
      const message = (body as { message?: unknown } | null)?.message;
      throw new HttpError(response.statusCode, typeof message === 'string' ? message : `${host} answered ${response.statusCode}`);
    }
    // A core service answering something else than its contract is a bad gateway, not our crash.
    if (!schema.Check(body)) throw new HttpError(502, `${host} answered a body that does not match its contract`);
    return body;
  }

  return {
    getProduct(productId: number, faults: { delay?: number; faultPercent?: number } = {}): Promise<ProductResponse> {
      const query = new URLSearchParams();
      if (faults.delay !== undefined) query.set('delay', String(faults.delay));
      if (faults.faultPercent !== undefined) query.set('faultPercent', String(faults.faultPercent));
      const suffix = query.size > 0 ? `?${query}` : '';
      return getJson({ core: product, path: `/product/${productId}${suffix}` }, answers.product);
    },
    getRecommendations(productId: number): Promise<RecommendationResponse[]> {
      return getJson({ core: recommendation, path: `/recommendation?productId=${productId}` }, answers.recommendations);
    },
    getReviews(productId: number): Promise<ReviewResponse[]> {
      return getJson({ core: review, path: `/review?productId=${productId}` }, answers.reviews);
    },
    close: () => agent.close(),
  };
}
