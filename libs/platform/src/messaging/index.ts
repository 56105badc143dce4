import type { Logger } from 'pino';
import type { EventBus } from './bus.ts';
import type { MessagingConfig } from './config.ts';
import { createInProcessBus } from './in-process.ts';
import { createRabbitBus } from './rabbitmq/index.ts';

export { messagingConfigSchema, type MessagingConfig, type RabbitConfig } from './config.ts';
export { EventRejectedError, BusUnavailableError } from './errors.ts';
export {
  AUDIT_GROUP,
  queueName,
  deadLetterQueueName,
  type EventBus,
  type EventHandler,
  type OutgoingMessage,
  type BusHealth,
} from './bus.ts';
export { createInProcessBus, type InProcessBus, type DeadLetter } from './in-process.ts';
export { createRabbitBus } from './rabbitmq/index.ts';

/** The bus the configuration asks for: RabbitMQ in modes 2 and 3, in memory in the all-in-one mode. */
export async function createBus(config: MessagingConfig, logger: Logger): Promise<EventBus> {
  return config.kind === 'rabbitmq' ? createRabbitBus(config, logger) : createInProcessBus(config, logger);
}
