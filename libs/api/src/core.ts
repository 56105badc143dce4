import { Type, type Static } from 'typebox';

/** Ids are 32-bit like the original system's; larger numbers are a type mismatch, not a lookup. */
export const MAX_ID = 2147483647;
export const Id = Type.Integer({ minimum: 1, maximum: MAX_ID });

/**
 * Text every engine stores unchanged: PostgreSQL refuses U+0000, and an unpaired UTF-16 surrogate has no
 * UTF-8 form (drivers would silently store U+FFFD instead). Lengths count characters, as VARCHAR does.
 */
const STORABLE_TEXT = '^[^\\u0000\\uD800-\\uDFFF]*$';
const Text = (maxLength: number, minLength = 1) =>
  Type.String({ minLength, maxLength, pattern: STORABLE_TEXT, description: 'no U+0000 and no unpaired surrogates' });

/** Why a string cannot be stored, or undefined when it can. */
export function unstorableText(value: string): string | undefined {
  // Code points, so a well-formed surrogate pair is one astral character and only a lone half remains.
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    if (code === 0) return 'contains U+0000 (NUL), which cannot be stored';
    if (code >= 0xd800 && code <= 0xdfff) {
      return `contains an unpaired UTF-16 surrogate (U+${code.toString(16).toUpperCase()}), which cannot be stored`;
    }
  }
  return undefined;
}

/** The first string anywhere in a value that cannot be stored: its path (property names and indexes) and why. */
export function findUnstorableText(value: unknown, path: ReadonlyArray<string> = []): { path: string[]; problem: string } | undefined {
  if (typeof value === 'string') {
    const problem = unstorableText(value);
    return problem === undefined ? undefined : { path: [...path], problem };
  }
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const found = findUnstorableText(item, [...path, key]);
    if (found) return found;
  }
  return undefined;
}

export const Product = Type.Object({
  productId: Id,
  name: Text(255),
  weight: Type.Integer({ minimum: 0, maximum: MAX_ID }),
}, { additionalProperties: false });
export type Product = Static<typeof Product>;

export const Recommendation = Type.Object({
  productId: Id,
  recommendationId: Id,
  author: Text(255),
  rate: Type.Integer({ minimum: 0, maximum: 100 }),
  content: Text(4000, 0),
}, { additionalProperties: false });
export type Recommendation = Static<typeof Recommendation>;

export const Review = Type.Object({
  productId: Id,
  reviewId: Id,
  author: Text(255),
  subject: Text(255),
  content: Text(4000, 0),
}, { additionalProperties: false });
export type Review = Static<typeof Review>;

const withAddress = { serviceAddress: Type.String() };
export const ProductResponse = Type.Object({ ...Product.properties, ...withAddress });
export const RecommendationResponse = Type.Object({ ...Recommendation.properties, ...withAddress });
export const ReviewResponse = Type.Object({ ...Review.properties, ...withAddress });
export type ProductResponse = Static<typeof ProductResponse>;
export type RecommendationResponse = Static<typeof RecommendationResponse>;
export type ReviewResponse = Static<typeof ReviewResponse>;

export const ErrorResponse = Type.Object({
  timestamp: Type.String(),
  path: Type.String(),
  status: Type.Integer(),
  error: Type.String(),
  message: Type.String(),
  requestId: Type.Optional(Type.String()),
});
