import { createEvent, type Product, type Recommendation, type Review } from '@landscape/api';
import { parseIntParam, unprocessable, type OutgoingMessage } from '@landscape/platform';
import type { CoreClient } from '../integration/core-client.ts';
import type { ProductCaller } from '../resilience/product-caller.ts';

export interface ProductAggregate {
  productId: number;
  name: string;
  weight: number;
  recommendations?: Array<Omit<Recommendation, 'productId'>>;
  reviews?: Array<Omit<Review, 'productId'>>;
}

export interface Faults {
  delay?: number;
  faultPercent?: number;
}

/** The fault parameters to pass on to product, parsed only where fault injection is on (product checks their range). */
export function faultsFrom(query: Record<string, unknown>, enabled: boolean): Faults {
  if (!enabled) return {};
  return {
    ...(query['delay'] === undefined ? {} : { delay: parseIntParam(query['delay']) }),
    ...(query['faultPercent'] === undefined ? {} : { faultPercent: parseIntParam(query['faultPercent']) }),
  };
}

/** What the schema cannot say about an aggregate: a positive productId, and no id twice within a part. */
export function checkAggregate(aggregate: ProductAggregate): void {
  if (aggregate.productId < 1) throw unprocessable(`Invalid productId: ${aggregate.productId}`);
  const repeated = <T>(items: T[] | undefined, id: (item: T) => number) => {
    const ids = (items ?? []).map(id);
    return ids.find((value, i) => ids.indexOf(value) !== i);
  };
  const recommendationId = repeated(aggregate.recommendations, (r) => r.recommendationId);
  if (recommendationId !== undefined) throw unprocessable(`Duplicate recommendationId: ${recommendationId}`);
  const reviewId = repeated(aggregate.reviews, (r) => r.reviewId);
  if (reviewId !== undefined) throw unprocessable(`Duplicate reviewId: ${reviewId}`);
}

/** product is required; recommendations and reviews that fail or are missing leave their part empty. */
export async function getComposite(
  deps: {
    getProduct: ProductCaller;
    client: CoreClient;
    serviceAddress: () => string;
    onPartialFailure: (part: string, error: unknown) => void;
  },
  productId: number,
  faults: Faults,
) {
  const optional = <T>(part: string, call: Promise<T[]>) =>
    call.catch((error: unknown) => {
      deps.onPartialFailure(part, error);
      return [] as T[];
    });
  const [product, recommendations, reviews] = await Promise.all([
    deps.getProduct(productId, faults),
    optional('recommendations', deps.client.getRecommendations(productId)),
    optional('reviews', deps.client.getReviews(productId)),
  ]);
  return {
    productId: product.productId,
    name: product.name,
    weight: product.weight,
    recommendations: recommendations.map(({ recommendationId, author, rate }) => ({ recommendationId, author, rate })),
    reviews: reviews.map(({ reviewId, author, subject }) => ({ reviewId, author, subject })),
    serviceAddresses: {
      cmp: deps.serviceAddress(),
      pro: product.serviceAddress,
      rev: reviews[0]?.serviceAddress ?? '',
      rec: recommendations[0]?.serviceAddress ?? '',
    },
  };
}

/** One CREATE per part, product first, so each core service applies its own in order. */
export function createEvents(aggregate: ProductAggregate): OutgoingMessage[] {
  const { productId } = aggregate;
  const product: Product = { productId, name: aggregate.name, weight: aggregate.weight };
  return [
    { destination: 'products', payload: createEvent('CREATE', productId, product) },
    ...(aggregate.recommendations ?? []).map((r) => ({
      destination: 'recommendations',
      payload: createEvent('CREATE', productId, { productId, ...r }),
    })),
    ...(aggregate.reviews ?? []).map((r) => ({
      destination: 'reviews',
      payload: createEvent('CREATE', productId, { productId, ...r }),
    })),
  ];
}

export function deleteEvents(productId: number): OutgoingMessage[] {
  return ['products', 'recommendations', 'reviews'].map((destination) => ({
    destination,
    payload: createEvent('DELETE', productId),
  }));
}
