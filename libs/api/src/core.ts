import { Type, type Static } from 'typebox';

/** Ids are 32-bit like the original system's; larger numbers are a type mismatch, not a lookup. */
export const MAX_ID = 2147483647;
export const Id = Type.Integer({ minimum: 1, maximum: MAX_ID });
const Text = (maxLength: number) => Type.String({ minLength: 1, maxLength });

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
  content: Type.String({ maxLength: 4000 }),
}, { additionalProperties: false });
export type Recommendation = Static<typeof Recommendation>;

export const Review = Type.Object({
  productId: Id,
  reviewId: Id,
  author: Text(255),
  subject: Text(255),
  content: Type.String({ maxLength: 4000 }),
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
