import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Provider } from 'oidc-provider';
import { oauthPaths } from '../oauth/provider.ts';

/**
 * Hands the OAuth endpoints to oidc-provider, which writes its own responses (errors in the OAuth
 * shape `{error, error_description}` that OAuth clients expect). Everything else — actuator, 404s —
 * stays with the platform's app.
 */
export async function oauthRoutes(app: FastifyInstance, options: { provider: Provider }): Promise<void> {
  const handle = options.provider.callback();

  // oidc-provider reads (and limits) request bodies itself: leave the stream unread.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));

  const forward = async (request: FastifyRequest, reply: FastifyReply) => {
    // Headers set by the platform's hooks (x-request-id) would be lost once the reply is hijacked.
    for (const [name, value] of Object.entries(reply.getHeaders())) {
      if (value !== undefined) reply.raw.setHeader(name, value);
    }
    reply.hijack();
    await handle(request.raw, reply.raw);
  };

  // Only the methods oidc-provider answers, so any other request gets the platform's 404.
  const routes: Array<[url: string, methods: Array<'GET' | 'POST' | 'OPTIONS'>]> = [
    [oauthPaths.authorization, ['GET']],
    [`${oauthPaths.authorization}/:uid`, ['GET']],
    [oauthPaths.token, ['POST', 'OPTIONS']],
    [oauthPaths.jwks, ['GET', 'OPTIONS']],
    ...oauthPaths.discovery.map((url): [string, Array<'GET' | 'OPTIONS'>] => [url, ['GET', 'OPTIONS']]),
  ];
  for (const [url, method] of routes) app.route({ method, url, handler: forward });
}
