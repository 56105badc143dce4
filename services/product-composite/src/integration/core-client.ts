import { Agent, type Dispatcher } from '@landscape/vendor/undici';
import { Type } from '@landscape/vendor/typebox';
import { Compile } from '@landscape/vendor/typebox/compile';
import { ProductResponse, RecommendationResponse, ReviewResponse } from '@landscape/api';
import {
  disabledTracing,
  HttpError,
  startClientCall,
  type ClientCall,
  type ClientCallRecorder,
  type Tracing,
} from '@landscape/platform';

interface Core {
  peer: string;
  url: URL;
  origin: string;
  prefix: string;
  host: string;
}
interface Call {
  core: Core;
  path: string;
  template: string;
}

/** A compiled contract check. */
interface Checker<T> {
  Check(value: unknown): value is T;
}

export interface CoreUrls {
  productUrl: string;
  recommendationUrl: string;
  reviewUrl: string;
}

/** A call that got no answer within its time limit; the message is the one the original system gave. */
export class CallTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(
      `Did not observe any item or terminal signal within ${timeoutMs}ms in 'onErrorResume' (and no fallback has been configured)`,
    );
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
export function createCoreClient(
  urls: CoreUrls,
  options: { timeoutMs: number; connections?: number; record?: ClientCallRecorder; tracing?: Tracing },
) {
  const agent = new Agent({ keepAliveTimeout: 30000, connections: options.connections ?? 64 });
  const tracing = options.tracing ?? disabledTracing('product-composite');
  // Each core service's URL parsed once; a call names its origin and path, so nothing is parsed per call.
  const core = (peer: string, url: string): Core => {
    const parsed = new URL(url);
    return { peer, url: parsed, origin: parsed.origin, prefix: parsed.pathname.replace(/\/+$/, ''), host: parsed.host };
  };
  const product = core('product', urls.productUrl);
  const recommendation = core('recommendation', urls.recommendationUrl);
  const review = core('review', urls.reviewUrl);

  /** One call in a CLIENT span named after its URL template, which sends the span's traceparent along. */
  async function getJson<T>(target: Call, schema: Checker<T>): Promise<T> {
    const {
      core: { peer, url, origin, prefix },
      path,
      template,
    } = target;
    const call = startClientCall(tracing, 'GET', url, `${origin}${prefix}${path}`, template);
    // A timer cleared on completion: AbortSignal.timeout() would keep one alive per call for its full span.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), options.timeoutMs);
    const startedAt = performance.now();
    const answer: { status?: number } = {};
    let failure: unknown;
    try {
      return await fetchJson(target, schema, controller.signal, answer, call);
    } catch (error) {
      failure = error;
      // A call that got its answer has ended its span already; this one got none.
      call.fail(error);
      throw error;
    } finally {
      clearTimeout(timer);
      options.record?.({
        peer,
        method: 'GET',
        seconds: (performance.now() - startedAt) / 1000,
        ...callResult(answer.status, failure),
      });
    }
  }

  async function fetchJson<T>(
    { core: { origin, prefix, host }, path }: Call,
    schema: Checker<T>,
    signal: AbortSignal,
    answer: { status?: number },
    call: ClientCall,
  ): Promise<T> {
    let response: Dispatcher.ResponseData;
    try {
      response = await agent.request({
        origin,
        path: `${prefix}${path}`,
        method: 'GET',
        signal,
        headers: call.headers,
      });
    } catch (error) {
      if (signal.aborted) throw new CallTimeoutError(options.timeoutMs);
      throw new HttpError(502, `${host} unreachable: ${(error as Error).message}`);
    }
    answer.status = response.statusCode;
    call.end(response.statusCode);
    let body: unknown;
    try {
      body = await response.body.json();
    } catch {
      if (signal.aborted) throw new CallTimeoutError(options.timeoutMs);
      throw new HttpError(502, `${host} answered ${response.statusCode} without a JSON body`);
    }
    if (response.statusCode >= 400) {
      const message = (body as { message?: unknown } | null)?.message;
      throw new HttpError(
        response.statusCode,
        typeof message === 'string' ? message : `${host} answered ${response.statusCode}`,
      );
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
      return getJson(
        { core: product, path: `/product/${productId}${suffix}`, template: '/product/{productId}' },
        answers.product,
      );
    },
    getRecommendations(productId: number): Promise<RecommendationResponse[]> {
      return getJson(
        { core: recommendation, path: `/recommendation?productId=${productId}`, template: '/recommendation' },
        answers.recommendations,
      );
    },
    getReviews(productId: number): Promise<ReviewResponse[]> {
      return getJson({ core: review, path: `/review?productId=${productId}`, template: '/review' }, answers.reviews);
    },
    close: () => agent.close(),
  };
}

/**
 * What the metrics say of a call: the status the core service answered (its own 4xx and 5xx
 * included), and why the call failed when that was not the answer itself.
 */
function callResult(status: number | undefined, failure: unknown): { status?: number; errorType?: string } {
  if (failure instanceof CallTimeoutError) return { errorType: 'timeout', ...(status === undefined ? {} : { status }) };
  if (status === undefined) return { errorType: failure === undefined ? 'error' : 'unreachable' };
  if (failure !== undefined && status < 400) return { status, errorType: 'invalid_response' };
  return { status };
}
