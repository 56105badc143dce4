import { Type, type Static } from '@landscape/vendor/typebox';
import { tlsConfigSchema } from '../tls.ts';

export const messagingConfigSchema = Type.Object({
  kind: Type.Union([Type.Literal('rabbitmq'), Type.Literal('in-process')]),
  rabbitmq: Type.Optional(
    Type.Object({
      host: Type.String({ minLength: 1 }),
      port: Type.Integer({ minimum: 1, maximum: 65535, default: 5672 }),
      username: Type.String({ minLength: 1 }),
      // Only ever supplied through the environment (a Secret), never from config-repo.
      password: Type.Optional(Type.String()),
      vhost: Type.String({ default: '/' }),
      heartbeatSeconds: Type.Integer({ minimum: 0, default: 30 }),
      confirmTimeoutMs: Type.Integer({ minimum: 1, default: 5000 }),
      reconnectInitialMs: Type.Integer({ minimum: 1, default: 500 }),
      reconnectMaxMs: Type.Integer({ minimum: 1, default: 10000 }),
      /** TLS (amqps) to the broker; on in the prod profile, with the broker's TLS port. */
      tls: Type.Optional(tlsConfigSchema),
    }),
  ),
  /** Retries of an event that fails because of what it carries, before it is dead-lettered. */
  retry: Type.Object(
    {
      maxAttempts: Type.Integer({ minimum: 1, default: 3 }),
      initialIntervalMs: Type.Integer({ minimum: 1, default: 500 }),
      multiplier: Type.Number({ minimum: 1, default: 2 }),
      maxIntervalMs: Type.Integer({ minimum: 1, default: 1000 }),
    },
    { default: {} },
  ),
  /** Cap of the backoff while a handler fails for reasons outside the event (database down). */
  infraRetryMaxMs: Type.Integer({ minimum: 1, default: 10000 }),
  /** A consumer paused on failing infrastructure for longer than this makes the service unready (0: at once). */
  stuckAfterMs: Type.Integer({ minimum: 0, default: 60000 }),
  /** Bound of each destination's audit queue; the oldest events are dropped first. */
  auditMaxLength: Type.Integer({ minimum: 1, default: 10000 }),
  /** destination -> groups whose queues must exist before any consumer starts, so early events are kept. */
  requiredGroups: Type.Record(Type.String(), Type.Array(Type.String({ minLength: 1 })), { default: {} }),
});

export type MessagingConfig = Static<typeof messagingConfigSchema>;
export type RabbitConfig = NonNullable<MessagingConfig['rabbitmq']>;
