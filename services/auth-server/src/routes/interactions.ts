import { parse as parseForm } from 'node:querystring';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors, type Interaction, type Provider } from '@landscape/vendor/oidc-provider';
import type { SignInThrottle } from '../domain/sign-in-throttle.ts';
import type { UserDirectory } from '../domain/users.ts';
import { oauthPaths } from '../oauth/provider.ts';
import { consentPage, errorPage, loginPage, pageHeaders } from '../views/pages.ts';

export interface InteractionDeps {
  provider: Provider;
  users: UserDirectory;
  throttle: SignInThrottle;
  /** scope -> what the consent page says about it. */
  scopes: Record<string, string>;
}

const FORM_LIMIT = 8 * 1024;

/**
 * The sign-in and consent pages of the authorization-code flow. oidc-provider redirects the browser
 * here with its interaction cookie; each step reports its result back and redirects to the flow.
 */
export async function interactionRoutes(app: FastifyInstance, deps: InteractionDeps): Promise<void> {
  const { provider, users, throttle } = deps;
  const base = `${oauthPaths.interaction}/:uid`;

  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: FORM_LIMIT },
    (_request, body, done) => {
      done(null, parseForm(String(body)));
    },
  );

  // These are browser pages, so their errors are pages too; an expired or replayed step is the common one.
  app.setErrorHandler(
    (error: Error & { statusCode?: number; error?: string; error_description?: string }, request, reply) => {
      const status =
        typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500
          ? error.statusCode
          : 500;
      if (status === 500) request.log.error({ err: error }, 'sign-in step failed');
      const description =
        error instanceof errors.OIDCProviderError
          ? 'This sign-in request has expired or was already completed.'
          : status === 500
            ? 'Something went wrong.'
            : error.message;
      void reply
        .status(status)
        .headers(pageHeaders)
        .send(errorPage(error.error ?? (status === 500 ? 'server_error' : 'invalid_request'), description));
    },
  );

  /** The interaction this browser is in, checked against the one the URL names. */
  const current = async (request: FastifyRequest, reply: FastifyReply, prompt?: string): Promise<Interaction> => {
    const details = await provider.interactionDetails(request.raw, reply.raw);
    const { uid } = request.params as { uid: string };
    if (details.uid !== uid || (prompt !== undefined && details.prompt.name !== prompt)) {
      throw new errors.SessionNotFound('interaction does not match this step');
    }
    return details;
  };
  const page = (reply: FastifyReply, status: number, html: string) =>
    reply.status(status).headers(pageHeaders).send(html);
  const urls = (uid: string) => ({
    login: `${oauthPaths.interaction}/${uid}/login`,
    confirm: `${oauthPaths.interaction}/${uid}/confirm`,
    abort: `${oauthPaths.interaction}/${uid}/abort`,
  });
  const clientOf = (details: Interaction) => String(details.params['client_id'] ?? '');

  app.get(base, async (request, reply) => {
    const details = await current(request, reply);
    const { uid } = details;
    if (details.prompt.name === 'login') {
      const hint = details.params['login_hint'];
      return page(
        reply,
        200,
        loginPage({
          action: urls(uid).login,
          abort: urls(uid).abort,
          clientId: clientOf(details),
          ...(typeof hint === 'string' ? { username: hint } : {}),
        }),
      );
    }
    if (details.prompt.name === 'consent') {
      const requested = String(details.params['scope'] ?? '')
        .split(' ')
        .filter((s) => s in deps.scopes);
      return page(
        reply,
        200,
        consentPage({
          action: urls(uid).confirm,
          abort: urls(uid).abort,
          clientId: clientOf(details),
          username: details.session?.accountId ?? '',
          scopes: requested.map((name) => ({ name, description: deps.scopes[name] ?? name })),
        }),
      );
    }
    throw new errors.SessionNotFound(`unsupported prompt ${details.prompt.name}`);
  });

  app.post(`${base}/login`, async (request, reply) => {
    const details = await current(request, reply, 'login');
    const form = formOf(request.body);
    const attempt = { client: clientOf(details), user: form('username') };
    const refuse = (status: number, error: string) =>
      page(
        reply,
        status,
        loginPage({
          action: urls(details.uid).login,
          abort: urls(details.uid).abort,
          clientId: clientOf(details),
          username: form('username'),
          error,
        }),
      );
    const wait = throttle.retryAfter(attempt);
    if (wait > 0) {
      void reply.header('retry-after', String(wait));
      return refuse(429, `Too many failed sign-in attempts. Try again in ${Math.ceil(wait / 60)} minute(s).`);
    }
    const accountId = users.authenticate(attempt.user, form('password'));
    if (accountId === undefined) {
      throttle.failed(attempt);
      return refuse(401, 'Invalid username or password.');
    }
    throttle.succeeded(attempt);
    const returnTo = await provider.interactionResult(
      request.raw,
      reply.raw,
      { login: { accountId } },
      { mergeWithLastSubmission: false },
    );
    return reply.redirect(returnTo, 303);
  });

  app.post(`${base}/confirm`, async (request, reply) => {
    const details = await current(request, reply, 'consent');
    const accountId = details.session?.accountId;
    if (accountId === undefined) throw new errors.SessionNotFound('no signed-in user');
    const grant =
      (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ??
      new provider.Grant({ accountId, clientId: clientOf(details) });
    const missing = details.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    const returnTo = await provider.interactionResult(request.raw, reply.raw, { consent: { grantId } });
    return reply.redirect(returnTo, 303);
  });

  app.post(`${base}/abort`, async (request, reply) => {
    await current(request, reply);
    const returnTo = await provider.interactionResult(
      request.raw,
      reply.raw,
      { error: 'access_denied', error_description: 'the user cancelled the sign-in or denied access' },
      { mergeWithLastSubmission: false },
    );
    return reply.redirect(returnTo, 303);
  });
}

/** A single-valued form field; repeated or missing fields read as empty. */
function formOf(body: unknown): (name: string) => string {
  const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  return (name) => {
    const value = fields[name];
    return typeof value === 'string' ? value : '';
  };
}
