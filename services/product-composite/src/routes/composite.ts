import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ErrorResponse, findUnstorableText, ProductAggregate, ProductAggregateResponse } from '@landscape/api';
import { badRequest, BusUnavailableError, type EventBus, HttpError, parseProductId, rejectUnknownQuery } from '@landscape/platform';
import { checkAggregate, createEvents, deleteEvents, faultsFrom, getComposite } from '../domain/composite.ts';
import type { CoreClient } from '../integration/core-client.ts';
import { CallTimeoutError } from '../integration/core-client.ts';
import type { ProductCaller } from '../resilience/product-caller.ts';
import { requireScope, type Principal } from '@landscape/platform/auth';

export interface CompositeRouteDeps {
  verify(authorization: string | undefined): Promise<Principal>;
  getProduct: ProductCaller;
  client: CoreClient;
  bus: EventBus;
  faultsEnabled: boolean;
  serviceAddress: () => string;
}

const errors = { '4xx': ErrorResponse, '5xx': ErrorResponse };
const productIdParam = { type: 'object', properties: { productId: { type: 'string' } } } as const;

export function compositeRoutes(app: FastifyInstance, deps: CompositeRouteDeps): void {
  // Runs before the body is parsed, so an unauthenticated caller learns nothing about validation.
  const authorize = (scope: string) => async (request: FastifyRequest) => {
    requireScope(await deps.verify(request.headers.authorization), scope);
  };

  const publish = async (messages: Parameters<EventBus['publish']>[0]) => {
    try {
      await deps.bus.publish(messages);
    } catch (error) {
      if (error instanceof BusUnavailableError) {
        throw new HttpError(503, 'The message broker did not confirm the events, so the request was not accepted; it is safe to repeat it');
      }
      throw error;
    }
  };

  app.get('/product-composite/:productId', {
    onRequest: authorize('product:read'),
    schema: {
      summary: 'The product with its recommendations and reviews',
      params: productIdParam,
      querystring: { type: 'object', properties: { delay: { type: 'integer' }, faultPercent: { type: 'integer' } } },
      response: { 200: ProductAggregateResponse, ...errors },
      security: [{ bearerAuth: ['product:read'] }],
    },
    // The schema documents the query; parsing below gives the contract's messages.
    validatorCompiler: () => () => true,
  }, async (request) => {
    const productId = parseProductId((request.params as { productId: string }).productId);
    const faults = faultsFrom(rejectUnknownQuery(request.query, ['delay', 'faultPercent']), deps.faultsEnabled);
    try {
      return await getComposite({
        getProduct: deps.getProduct,
        client: deps.client,
        serviceAddress: deps.serviceAddress,
        onPartialFailure: (part, error) => request.log.warn({ err: error, productId }, `answering without ${part}`),
      }, productId, faults);
    } catch (error) {
      if (error instanceof CallTimeoutError) throw new HttpError(500, error.message);
      throw error;
    }
  });

  app.post('/product-composite', {
    onRequest: authorize('product:write'),
    // Ahead of the schema, whose pattern would only say "must match pattern"; the consumers apply the same rule.
    preValidation: async (request) => {
      const unstorable = findUnstorableText(request.body);
      if (unstorable) throw badRequest(`Invalid ${['body', ...unstorable.path].join('.')}: ${unstorable.problem}`);
    },
    schema: {
      summary: 'Creates the product, its recommendations and reviews through events',
      body: ProductAggregate,
      response: { 200: { type: 'null', description: 'Every event was confirmed by the broker' }, ...errors },
      security: [{ bearerAuth: ['product:write'] }],
    },
  }, async (request, reply) => {
    const body = request.body as ProductAggregate;
    checkAggregate(body);
    await publish(createEvents(body));
    return reply.status(200).send();
  });

  app.delete('/product-composite/:productId', {
    onRequest: authorize('product:write'),
    schema: {
      summary: 'Deletes the product, its recommendations and reviews through events; idempotent',
      params: productIdParam,
      response: { 200: { type: 'null' }, ...errors },
      security: [{ bearerAuth: ['product:write'] }],
    },
  }, async (request, reply) => {
    const productId = parseProductId((request.params as { productId: string }).productId);
    await publish(deleteEvents(productId));
    return reply.status(200).send();
  });
}
