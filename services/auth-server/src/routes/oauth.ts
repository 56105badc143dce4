import { IncomingMessage } from 'node:http';
import { parse as parseForm } from 'node:querystring';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Provider } from '@landscape/vendor/oidc-provider';
import { oauthPaths } from '../oauth/provider.ts';

/** oidc-provider's own limit for a request body. */
const TOKEN_BODY_LIMIT = 56 * 1024;
/** The one body type oidc-provider reads at the token endpoint. */
const FORM = /^application\/x-www-form-urlencoded\s*(;|$)/i;

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

  const forward = async (request: FastifyRequest, reply: FastifyReply, raw: IncomingMessage = request.raw) => {
    // Headers set by the platform's hooks (x-request-id) would be lost once the reply is hijacked.
    for (const [name, value] of Object.entries(reply.getHeaders())) {
      if (value !== undefined) reply.raw.setHeader(name, value);
    }
    reply.hijack();
    await handle(raw, reply.raw);
  };

  // Only the methods oidc-provider answers, so any other request gets the platform's 404.
  const routes: Array<[url: string, methods: Array<'GET' | 'POST' | 'OPTIONS'>]> = [
    [oauthPaths.authorization, ['GET']],
    [`${oauthPaths.authorization}/:uid`, ['GET']],
    [oauthPaths.jwks, ['GET', 'OPTIONS']],
    ...oauthPaths.discovery.map((url): [string, Array<'GET' | 'OPTIONS'>] => [url, ['GET', 'OPTIONS']]),
  ];
  for (const [url, method] of routes) app.route({ method, url, handler: (request, reply) => forward(request, reply) });

  // The token endpoint's body is read here first: with only Basic allowed, oidc-provider would ignore a
  // client_secret in the body, so a request that authenticates both ways would pass. It is refused.
  await app.register(async (token) => {
    token.removeAllContentTypeParsers();
    token.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: TOKEN_BODY_LIMIT }, (_request, body, done) =>
      done(null, body),
    );
    token.route({
      method: ['POST', 'OPTIONS'],
      url: oauthPaths.token,
      handler: async (request, reply) => {
        const body = Buffer.isBuffer(request.body) ? request.body : undefined;
        if (body === undefined) return forward(request, reply);
        if (
          request.headers.authorization !== undefined &&
          FORM.test(request.headers['content-type'] ?? '') &&
          Object.hasOwn(parseForm(body.toString('utf8')), 'client_secret')
        ) {
          return reply.status(400).header('cache-control', 'no-store').send({
            error: 'invalid_request',
            error_description: 'client authentication must only be provided using one mechanism',
          });
        }
        return forward(request, reply, replay(request.raw, body));
      },
    });
  });
}

/** A request like the one received, whose body (already read) can be read once more. */
function replay(original: IncomingMessage, body: Buffer): IncomingMessage {
  const copy = new IncomingMessage(original.socket);
  copy.method = original.method ?? 'POST';
  copy.url = original.url ?? '/';
  copy.headers = original.headers;
  copy.rawHeaders = original.rawHeaders;
  copy.httpVersion = original.httpVersion;
  copy.httpVersionMajor = original.httpVersionMajor;
  copy.httpVersionMinor = original.httpVersionMinor;
  // Complete, or destroying the copy once read would close the connection under the response.
  copy.complete = true;
  copy.push(body);
  copy.push(null);
  return copy;
}
