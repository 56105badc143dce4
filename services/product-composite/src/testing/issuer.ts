import { AUDIENCE, ISSUER, type TestIssuer } from '@landscape/platform/testing';

/** Environment that points the composite at the test issuer and at core services on the given URLs. */
export function compositeEnv(
  issuer: TestIssuer,
  urls: { product: string; recommendation: string; review: string },
): Record<string, string> {
  return {
    SECURITY_JWKS_URL: issuer.jwksUrl,
    SECURITY_ISSUER: ISSUER,
    SECURITY_AUDIENCE: AUDIENCE,
    SERVICES_PRODUCT_URL: urls.product,
    SERVICES_RECOMMENDATION_URL: urls.recommendation,
    SERVICES_REVIEW_URL: urls.review,
  };
}
