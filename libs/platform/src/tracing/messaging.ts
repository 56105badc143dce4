import { context, propagation, ROOT_CONTEXT, SpanKind, trace, type Span } from '@landscape/vendor/@opentelemetry/api';
import type { EventBus, OutgoingMessage } from '../messaging/bus.ts';
import { markFailed, type Tracing } from './tracing.ts';

/**
 * The bus as one service uses it, traced with the messaging conventions: a PRODUCER span per published
 * message whose W3C context travels in the message's headers, and a CONSUMER span per handling that
 * continues that trace, so a consumer's work joins the trace of the request that published the event.
 */
export function tracedBus(bus: EventBus, tracing: Tracing, system: string): EventBus {
  if (!tracing.enabled) return bus;
  const { tracer } = tracing;
  return {
    async publish(messages: ReadonlyArray<OutgoingMessage>): Promise<void> {
      const parent = context.active();
      const spans: Span[] = [];
      const traced = messages.map((message) => {
        const span = tracer.startSpan(
          `send ${message.destination}`,
          {
            kind: SpanKind.PRODUCER,
            attributes: {
              'messaging.system': system,
              'messaging.destination.name': message.destination,
              'messaging.operation.type': 'send',
              'messaging.operation.name': 'send',
            },
          },
          parent,
        );
        spans.push(span);
        const headers: Record<string, string> = { ...message.headers };
        propagation.inject(trace.setSpan(parent, span), headers);
        return { ...message, headers };
      });
      try {
        await bus.publish(traced);
      } catch (error) {
        for (const span of spans) markFailed(span, error);
        throw error;
      } finally {
        for (const span of spans) span.end();
      }
    },

    subscribe(destination, group, handler, observer) {
      return bus.subscribe(
        destination,
        group,
        async (payload, delivered) => {
          const parent = propagation.extract(ROOT_CONTEXT, delivered?.headers ?? {});
          const span = tracer.startSpan(
            `process ${destination}`,
            {
              kind: SpanKind.CONSUMER,
              attributes: {
                'messaging.system': system,
                'messaging.destination.name': destination,
                'messaging.consumer.group.name': group,
                'messaging.operation.type': 'process',
                'messaging.operation.name': 'process',
              },
            },
            parent,
          );
          try {
            await context.with(trace.setSpan(parent, span), () => handler(payload, delivered));
          } catch (error) {
            markFailed(span, error);
            throw error;
          } finally {
            span.end();
          }
        },
        observer,
      );
    },

    health: () => bus.health(),
    close: () => bus.close(),
  };
}
