import { Agent, request } from 'undici';
import { Type, type Static, type TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { ProductResponse, RecommendationResponse, ReviewResponse } from '@landscape/api';
import { disabledTracing, HttpError, startClientCall, type ClientCall, type Tracing } from '@landscape/platform';

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

/**
 * Calls to the core services over one pooled keep-alive agent. A core service's 4xx and 5xx answers
 * become HttpErrors with its status and message, so the composite can pass them on.
 */
export function createCoreClient(urls: CoreUrls, options: { timeoutMs: number; connections?: number; tracing?: Tracing }) {
  const agent = new Agent({ keepAliveTimeout: 30000, connections: options.connections ?? 64 });
  const tracing = options.tracing ?? disabledTracing('product-composite');

  /** One call in a CLIENT span named after its URL template, which sends the span's traceparent along. */
  async function getJson<S extends TSchema>(url: string, schema: S, template: string): Promise<Static<S>> {
    const call = startClientCall(tracing, 'GET', new URL(url), template);
    // A timer cleared on completion: AbortSignal.timeout() would keep one alive per call for its full span.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), options.timeoutMs);
    try {
      return await fetchJson(url, schema, controller.signal, call);
    } catch (error) {
      // A call that got its answer has ended its span already; this one got none.
      call.fail(error);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async function fetchJson<S extends TSchema>(url: string, schema: S, signal: AbortSignal, call: ClientCall): Promise<Static<S>> {
    let response;
    try {
      response = await request(url, { dispatcher: agent, signal, headers: call.headers });
    } catch (error) {
      if (signal.aborted) throw new CallTimeoutError(options.timeoutMs);
      throw new HttpError(502, `${new URL(url).host} unreachable: ${(error as Error).message}`);
    }
    call.end(response.statusCode);
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
    if (!Value.Check(schema, body)) throw new HttpError(502, `${new URL(url).host} answered a body that does not match its contract`);
    return body as Static<S>;
  }

  return {
    getProduct(productId: number, faults: { delay?: number; faultPercent?: number } = {}): Promise<ProductResponse> {
      const query = new URLSearchParams();
      if (faults.delay !== undefined) query.set('delay', String(faults.delay));
      if (faults.faultPercent !== undefined) query.set('faultPercent', String(faults.faultPercent));
      const suffix = query.size > 0 ? `?${query}` : '';
      return getJson(`${urls.productUrl}/product/${productId}${suffix}`, ProductResponse, '/product/{productId}');
    },
    getRecommendations(productId: number): Promise<RecommendationResponse[]> {
      return getJson(`${urls.recommendationUrl}/recommendation?productId=${productId}`, Type.Array(RecommendationResponse), '/recommendation');
    },
    getReviews(productId: number): Promise<ReviewResponse[]> {
      return getJson(`${urls.reviewUrl}/review?productId=${productId}`, Type.Array(ReviewResponse), '/review');
    },
    close: () => agent.close(),
  };
}
