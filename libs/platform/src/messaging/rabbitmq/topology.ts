import type { Channel } from 'amqplib';
import { AUDIT_GROUP, deadLetterQueueName, queueName } from '../bus.ts';
import type { MessagingConfig } from '../config.ts';

/** What the declarations read from configuration. */
export type TopologyConfig = Pick<MessagingConfig, 'auditMaxLength' | 'requiredGroups'>;

async function declareGroupQueue(
  channel: Channel,
  destination: string,
  group: string,
  config: TopologyConfig,
): Promise<string> {
  const queue = queueName(destination, group);
  await channel.assertQueue(queue, {
    durable: true,
    // Replicas of a consumer share its group's queue; one active consumer at a time (the others stand
    // by and take over if it goes) keeps each productId's events in publish order.
    ...(group === AUDIT_GROUP
      ? { maxLength: config.auditMaxLength }
      : { arguments: { 'x-single-active-consumer': true } }),
  });
  await channel.bindQueue(queue, destination, '#');
  return queue;
}

/** The exchange, the audit queue and the required groups' queues, so nothing published is lost before its consumer starts. */
export async function declareDestination(channel: Channel, destination: string, config: TopologyConfig): Promise<void> {
  await channel.assertExchange(destination, 'topic', { durable: true });
  const groups = new Set([AUDIT_GROUP, ...(config.requiredGroups[destination] ?? [])]);
  for (const group of groups) await declareGroupQueue(channel, destination, group, config);
}

/** Everything one subscription consumes from or dead-letters to: its destination, its group queue and dead-letter queue. */
export async function declareSubscription(
  channel: Channel,
  destination: string,
  group: string,
  config: TopologyConfig,
): Promise<void> {
  await declareDestination(channel, destination, config);
  await declareGroupQueue(channel, destination, group, config);
  await channel.assertQueue(deadLetterQueueName(destination, group), { durable: true });
}
