import { createHttpApp, errorBody, notFound, type Built, type ServiceDeps } from '@landscape/platform';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createTokenVerifier, requireScope } from '@landscape/platform/auth';
import { loadAssets, type Asset } from './assets.ts';
import type { WebConfig } from './config.ts';
import { createOperatorView } from './operator.ts';

/** Where the storefront lives on the edge; `/` redirects here. */
export const basePath = '/store';

/**
 * Scripts and styles come from this origin's files only (no inline code, no eval), the page calls
 * only this origin (the edge: /oauth and /product-composite), and nothing may frame it. The sign-in
 * code arrives in the URL fragment, which no server or Referer sees.
 */
export const securityHeaders: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
};

const otherMethods = ['POST', 'PUT', 'PATCH', 'DELETE'] as const;

export async function buildApp(config: WebConfig, deps: ServiceDeps, assets = loadAssets()): Promise<Built> {
  const app = createHttpApp({ ...deps, info: { app: { name: 'web' } } });
  const operatorSummary = createOperatorView(config.web);
  const verify = createTokenVerifier(config.security);

  app.addHook('onSend', async (_request, reply) => {
    reply.headers(securityHeaders);
  });

  const send = (request: FastifyRequest, reply: FastifyReply, asset: Asset, cache: string) => {
    const gzip = /\bgzip\b/.test(request.headers['accept-encoding'] ?? '');
    void reply.type(asset.type).header('cache-control', cache).header('vary', 'accept-encoding');
    return gzip ? reply.header('content-encoding', 'gzip').send(asset.gzip) : reply.send(asset.body);
  };
  /** The pages answer GET and HEAD; another method is 405 with Allow, not a 404 for a path that exists. */
  const page = (url: string, handler: (request: FastifyRequest, reply: FastifyReply) => unknown) => {
    app.get(url, handler);
    app.route({
      method: [...otherMethods],
      url,
      handler: (request, reply) =>
        reply
          .status(405)
          .header('allow', 'GET, HEAD')
          .send(errorBody(405, request.url, `${request.method} is not allowed here`, request.id)),
    });
  };

  page('/', (_request, reply) => reply.redirect(`${basePath}/`, 302));
  // The page holds the user's token in memory only; it is never cached or stored.
  page(`${basePath}/`, (request, reply) => send(request, reply, assets.index, 'no-store'));
  page(`${basePath}/assets/:file`, (request, reply) => {
    const asset = assets.files.get((request.params as { file: string }).file);
    if (!asset) throw notFound(`No asset named ${(request.params as { file: string }).file}`);
    return send(request, reply, asset, 'no-cache');
  });
  // The issuer lets the page check the sign-in answer's `iss` (RFC 9207): it came from this auth server.
  page(`${basePath}/api/settings`, () => ({ clientId: config.web.clientId, issuer: config.security.issuer }));
  // Whether each service is up and how the breaker fares is for signed-in users: in a cluster the edge
  // publishes only the composite's liveness summary, and this must not show more to anyone else.
  page(`${basePath}/api/operator`, async (request, reply) => {
    requireScope(await verify(request.headers.authorization), 'product:read');
    return reply.header('cache-control', 'no-store').send(await operatorSummary());
  });
  return { app };
}
