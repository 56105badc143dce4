import { Type, type Static } from '@landscape/vendor/typebox';

/** Ids are 32-bit like the original system's; larger numbers are a type mismatch, not a lookup. */
export const MAX_ID = 2147483647;
export const Id = Type.Integer({ minimum: 1, maximum: MAX_ID });

/** A whole number in a path or query parameter, as text; anything else is answered 400 "Type mismatch.". */
export const INTEGER_TEXT = '^-?\\d{1,12}$';
const integerParam = (description: string) => Type.String({ pattern: INTEGER_TEXT, description });
export const ProductIdParams = Type.Object({ productId: integerParam('a 32-bit integer, 1 or more') });
/** Fault injection for resilience tests; honoured only where the service enables it. */
export const FaultQuery = Type.Object({
  delay: Type.Optional(integerParam('seconds to wait before answering')),
  faultPercent: Type.Optional(integerParam('probability (0-100) of answering 500')),
});

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

interface Visit {
  value: unknown;
  key: string;
  parent: Visit | undefined;
}

/** The first string anywhere in a value that cannot be stored: its path (property names and indexes) and why. */
export function findUnstorableText(value: unknown): { path: string[]; problem: string } | undefined {
  // A loop with parent links rather than recursion or copied paths: a body nested a million levels deep
  // must get a 400 at once, not a stack overflow or quadratic work.
  const pending: Visit[] = [{ value, key: '', parent: undefined }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    if (typeof next.value === 'string') {
      const problem = unstorableText(next.value);
      if (problem !== undefined) return { path: pathOf(next), problem };
    } else if (typeof next.value === 'object' && next.value !== null) {
      const entries = Object.entries(next.value);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, item] = entries[i] as [string, unknown];
        pending.push({ value: item, key, parent: next });
      }
    }
  }
  return undefined;
}

function pathOf(visit: Visit): string[] {
  const path: string[] = [];
  for (let v: Visit | undefined = visit; v?.parent; v = v.parent) path.push(v.key);
  return path.reverse();
}

export const Product = Type.Object(
  {
    productId: Id,
    name: Text(255),
    weight: Type.Integer({ minimum: 0, maximum: MAX_ID }),
  },
  { additionalProperties: false },
);
export type Product = Static<typeof Product>;

export const Recommendation = Type.Object(
  {
    productId: Id,
    recommendationId: Id,
    author: Text(255),
    rate: Type.Integer({ minimum: 0, maximum: 100 }),
    content: Text(4000, 0),
  },
  { additionalProperties: false },
);
export type Recommendation = Static<typeof Recommendation>;

export const Review = Type.Object(
  {
    productId: Id,
    reviewId: Id,
    author: Text(255),
    subject: Text(255),
    content: Text(4000, 0),
  },
  { additionalProperties: false },
);
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
