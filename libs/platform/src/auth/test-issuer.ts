import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from '@landscape/vendor/jose';

export const ISSUER = 'http://test-issuer';
export const AUDIENCE = 'product-composite';

/**
 * A stand-in authorization server for the tests of a resource server: an RSA key, its JWKS on a local port, and
 * a signer for well-formed and deliberately broken access tokens.
 */
export async function startTestIssuer() {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  let jwksRequests = 0;
  const server: Server = createServer((request, response) => {
    jwksRequests += 1;
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify(request.url === '/jwks' ? { keys: [publicJwk] } : {}));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const sign = (claims: JWTPayload, header: Record<string, unknown> = {}, expiresIn: string | number = '5m') => {
    const jwt = new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: 'writer', jti: crypto.randomUUID(), ...claims })
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'test-key', ...header })
      .setIssuedAt();
    if (expiresIn !== 0 && claims.exp === undefined) jwt.setExpirationTime(expiresIn);
    return jwt.sign(privateKey);
  };

  return {
    jwksUrl: `http://127.0.0.1:${port}/jwks`,
    publicJwk,
    publicKey,
    privateKey,
    sign,
    reader: () => sign({ sub: 'reader', scope: 'product:read' }),
    writer: () => sign({ sub: 'writer', scope: 'product:read product:write' }),
    jwksRequests: () => jwksRequests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type TestIssuer = Awaited<ReturnType<typeof startTestIssuer>>;

/** Signs exactly the claims given, iat included (the issuer's own signer always stamps the current time). */
export const signAt = (issuer: TestIssuer, payload: JWTPayload) =>
  new SignJWT(payload).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'test-key' }).sign(issuer.privateKey);
