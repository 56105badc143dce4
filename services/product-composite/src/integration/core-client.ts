import { Agent, type Dispatcher } from '@landscape/vendor/undici';
import { Type } from '@landscape/vendor/typebox';
import { Compile } from '@landscape/vendor/typebox/compile';
import { ProductResponse, RecommendationResponse, ReviewResponse } from '@landscape/api';
import {
  disabledTracing,
  HttpError,
  startClientCall,
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
      core: { peer, url, origin, prefix, host },
      path,
      template,
    } = target;
    const call = startClientCall(tracing, 'GET', url, `${origin}${prefix}${path}`, template);
    const startedAt = performance.now();
    let status: number | undefined;
    let failure: unknown;
    try {
      const answer = await dispatchGet(
        agent,
        host,
        { origin, path: `${prefix}${path}`, method: 'GET', headers: call.headers },
        options.timeoutMs,
        (code) => {
          status = code;
          call.end(code);
        },
      );
      return checkedBody(host, answer, schema);
    } catch (error) {
      failure = error;
      // A call that got its answer has ended its span already; this one got none.
      call.fail(error);
      throw error;
    } finally {
      options.record?.({
        peer,
        method: 'GET',
        seconds: (performance.now() - startedAt) / 1000,
        ...callResult(status, failure),
      });
    }
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

interface Answer {
  status: number;
  body: Buffer;
}

/**
 * One request read whole into a buffer through undici's dispatcher: no body stream and no promise
 * chain per answer, which `request` and `body.json()` cost on each of the composite's three calls. It
 * rejects with CallTimeoutError once timeoutMs have passed, whether or not the request was sent yet, and
 * with a 502 naming `host` when the connection fails; `onStatus` hears the status as it arrives.
 */
function dispatchGet(
  agent: Dispatcher,
  host: string,
  request: Dispatcher.DispatchOptions,
  timeoutMs: number,
  onStatus: (status: number) => void,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let status: number | undefined;
    let controller: Dispatcher.DispatchController | undefined;
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
    };
    const timer = setTimeout(() => {
      const timeout = new CallTimeoutError(timeoutMs);
      settle(() => reject(timeout));
      controller?.abort(timeout);
    }, timeoutMs);
    agent.dispatch(request, {
      onRequestStart(started) {
        controller = started;
        if (settled) started.abort(new CallTimeoutError(timeoutMs));
      },
      onResponseStart(_controller, statusCode) {
        status = statusCode;
        onStatus(statusCode);
      },
      onResponseData(_controller, chunk) {
        chunks.push(chunk);
      },
      onResponseEnd() {
        const answer = { status: status ?? 0, body: Buffer.concat(chunks) };
        settle(() => resolve(answer));
      },
      onResponseError(_controller, error) {
        // A body cut short is an answer without its JSON body, which checkedBody reports as such.
        settle(() =>
          status === undefined
            ? reject(new HttpError(502, `${host} unreachable: ${error.message}`))
            : resolve({ status, body: Buffer.alloc(0) }),
        );
      },
    });
  });
}

/**
 * A core service's answer as its contract's type. Its 4xx and 5xx become HttpErrors with its status and
 * message; anything but JSON, or JSON off the contract, is a bad gateway, not the composite's crash.
 */
function checkedBody<T>(host: string, { status, body }: Answer, schema: Checker<T>): T {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(502, `${host} answered ${status} without a JSON body`);
  }
  if (status >= 400) {
    const message = (value as { message?: unknown } | null)?.message;
    throw new HttpError(status, typeof message === 'string' ? message : `${host} answered ${status}`);
  }
  if (!schema.Check(value)) throw new HttpError(502, `${host} answered a body that does not match its contract`);
  return value;
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
