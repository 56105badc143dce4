import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@landscape/vendor/typebox';
import {
  ErrorResponse,
  FaultQuery,
  findUnstorableText,
  ProductAggregate,
  ProductAggregateResponse,
  ProductIdParams,
} from '@landscape/api';
import {
  badRequest,
  BusUnavailableError,
  type EventBus,
  HttpError,
  parseProductId,
  rejectUnknownQuery,
  typedRoutes,
} from '@landscape/platform';
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
// An empty 200: the reply is sent without a payload.
const noBody = (description: string) => Type.Unsafe<undefined>({ type: 'null', description });

export function compositeRoutes(untyped: FastifyInstance, deps: CompositeRouteDeps): void {
  const app = typedRoutes(untyped);
  // Runs before the body is parsed, so an unauthenticated caller learns nothing about validation.
  const authorize = (scope: string) => async (request: FastifyRequest) => {
    requireScope(await deps.verify(request.headers.authorization), scope);
  };

  const publish = async (messages: Parameters<EventBus['publish']>[0]) => {
    try {
      await deps.bus.publish(messages);
    } catch (error) {
      if (error instanceof BusUnavailableError) {
        throw new HttpError(
          503,
          'The message broker did not confirm the events, so the request was not accepted; it is safe to repeat it',
        );
      }
      throw error;
    }
  };

  app.get(
    '/product-composite/:productId',
    {
      onRequest: authorize('product:read'),
      schema: {
        summary: 'The product with its recommendations and reviews',
        params: ProductIdParams,
        querystring: FaultQuery,
        response: { 200: ProductAggregateResponse, ...errors },
        security: [{ bearerAuth: ['product:read'] }],
      },
    },
    async (request) => {
      const productId = parseProductId(request.params.productId);
      const faults = faultsFrom(rejectUnknownQuery(request.query, ['delay', 'faultPercent']), deps.faultsEnabled);
      try {
        return await getComposite(
          {
            getProduct: deps.getProduct,
            client: deps.client,
            serviceAddress: deps.serviceAddress,
            onPartialFailure: (part, error) => request.log.warn({ err: error, productId }, `answering without ${part}`),
          },
          productId,
          faults,
        );
      } catch (error) {
        if (error instanceof CallTimeoutError) throw new HttpError(500, error.message);
        throw error;
      }
    },
  );

  app.post(
    '/product-composite',
    {
      onRequest: authorize('product:write'),
      // Ahead of the schema, whose pattern would only say "must match pattern"; the consumers apply the same rule.
      preValidation: async (request) => {
        const unstorable = findUnstorableText(request.body);
        if (unstorable) throw badRequest(`Invalid ${['body', ...unstorable.path].join('.')}: ${unstorable.problem}`);
      },
      schema: {
        summary: 'Creates the product, its recommendations and reviews through events',
        body: ProductAggregate,
        response: { 200: noBody('Every event was confirmed by the broker'), ...errors },
        security: [{ bearerAuth: ['product:write'] }],
      },
    },
    async (request, reply) => {
      checkAggregate(request.body);
      await publish(createEvents(request.body));
      return reply.status(200).send();
    },
  );

  app.delete(
    '/product-composite/:productId',
    {
      onRequest: authorize('product:write'),
      schema: {
        summary: 'Deletes the product, its recommendations and reviews through events; idempotent',
        params: ProductIdParams,
        response: { 200: noBody('Every event was confirmed by the broker'), ...errors },
        security: [{ bearerAuth: ['product:write'] }],
      },
    },
    async (request, reply) => {
      const productId = parseProductId(request.params.productId);
      await publish(deleteEvents(productId));
      return reply.status(200).send();
    },
  );
}
