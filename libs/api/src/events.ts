import { Type, type Static, type TSchema } from '@landscape/vendor/typebox';
import { Value } from '@landscape/vendor/typebox/value';
import { findUnstorableText, Id, Product, Recommendation, Review } from './core.ts';

/** The envelope every event shares; `data` is the entity on CREATE and null on DELETE. */
const envelope = <T extends TSchema>(data: T) =>
  Type.Union([
    Type.Object({ eventType: Type.Literal('CREATE'), key: Id, data, eventCreatedAt: Type.String() }),
    Type.Object({ eventType: Type.Literal('DELETE'), key: Id, data: Type.Null(), eventCreatedAt: Type.String() }),
  ]);

export const ProductEvent = envelope(Product);
export const RecommendationEvent = envelope(Recommendation);
export const ReviewEvent = envelope(Review);
export type ProductEvent = Static<typeof ProductEvent>;
export type RecommendationEvent = Static<typeof RecommendationEvent>;
export type ReviewEvent = Static<typeof ReviewEvent>;

export const destinations = {
  products: { destination: 'products', group: 'productsGroup', schema: ProductEvent },
  recommendations: { destination: 'recommendations', group: 'recommendationsGroup', schema: RecommendationEvent },
  reviews: { destination: 'reviews', group: 'reviewsGroup', schema: ReviewEvent },
} as const;

export function createEvent<T extends { productId: number }>(
  eventType: 'CREATE',
  key: number,
  data: T,
): { eventType: 'CREATE'; key: number; data: T; eventCreatedAt: string };
export function createEvent(
  eventType: 'DELETE',
  key: number,
): { eventType: 'DELETE'; key: number; data: null; eventCreatedAt: string };
export function createEvent(eventType: 'CREATE' | 'DELETE', key: number, data: unknown = null) {
  return { eventType, key, data, eventCreatedAt: new Date().toISOString() };
}

/**
 * Checks an incoming event against its schema. Returns the reason it is invalid, or the typed event.
 * An unknown eventType, a malformed entity and a key that disagrees with the entity are all invalid.
 */
export function parseEvent<S extends TSchema>(schema: S, payload: unknown): { event: Static<S> } | { reason: string } {
  const type = (payload as { eventType?: unknown } | null)?.eventType;
  if (type !== 'CREATE' && type !== 'DELETE') return { reason: `Unknown event type: ${JSON.stringify(type ?? null)}` };
  // Before the schema, whose pattern would only say "must match pattern".
  const unstorable = findUnstorableText(payload);
  if (unstorable) return { reason: `Invalid ${type} event: /${unstorable.path.join('/')} ${unstorable.problem}` };
  if (!Value.Check(schema, payload)) {
    const errors = [...Value.Errors(schema, payload)];
    // Union errors list each branch; the one under /data (or the envelope) names the real problem.
    const error = errors.find((e) => e.instancePath !== '') ?? errors[0];
    return {
      reason: `Invalid ${type} event: ${error ? `${error.instancePath || '/'} ${error.message}` : 'does not match the schema'}`,
    };
  }
  const event = payload as { key: number; data: { productId: number } | null };
  if (event.data !== null && event.data.productId !== event.key) {
    return { reason: `Invalid ${type} event: key ${event.key} does not match data.productId ${event.data.productId}` };
  }
  return { event: payload as Static<S> };
}
