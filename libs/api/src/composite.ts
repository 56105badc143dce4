import { Type, type Static } from '@landscape/vendor/typebox';
import { MAX_ID, Recommendation, Review } from './core.ts';

const { productId: _r, ...recommendationFields } = Recommendation.properties;
const { productId: _v, ...reviewFields } = Review.properties;

/**
 * The body of POST /product-composite. productId has no lower bound here so that a value below 1
 * gets the contract's 422 "Invalid productId" rather than a schema message.
 */
export const ProductAggregate = Type.Object(
  {
    productId: Type.Integer({ maximum: MAX_ID }),
    name: Type.String({ minLength: 1, maxLength: 255 }),
    weight: Type.Integer({ minimum: 0, maximum: MAX_ID }),
    recommendations: Type.Optional(
      Type.Array(Type.Object(recommendationFields, { additionalProperties: false }), { maxItems: 1000 }),
    ),
    reviews: Type.Optional(Type.Array(Type.Object(reviewFields, { additionalProperties: false }), { maxItems: 1000 })),
  },
  { additionalProperties: false },
);
export type ProductAggregate = Static<typeof ProductAggregate>;

export const ProductAggregateResponse = Type.Object({
  productId: Type.Integer(),
  name: Type.String(),
  weight: Type.Integer(),
  recommendations: Type.Array(
    Type.Object({ recommendationId: Type.Integer(), author: Type.String(), rate: Type.Integer() }),
  ),
  reviews: Type.Array(Type.Object({ reviewId: Type.Integer(), author: Type.String(), subject: Type.String() })),
  serviceAddresses: Type.Object({ cmp: Type.String(), pro: Type.String(), rev: Type.String(), rec: Type.String() }),
});
export type ProductAggregateResponse = Static<typeof ProductAggregateResponse>;
