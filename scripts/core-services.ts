// The core services of the all-in-one landscape and the in-process bus they consume from: on the
// second thread (second-thread.ts), or on the main thread when SECOND_THREAD=false.
import { createInProcessBus, type InProcessBus, type Logger } from '@landscape/platform';
import { productService } from '@landscape/product/service';
import { recommendationService } from '@landscape/recommendation/service';
import { reviewService } from '@landscape/review/service';

export interface CoreServices {
  bus: InProcessBus;
  /** The bus first, so no event meets a closed database; then the services. */
  close(): Promise<void>;
}

export async function startCoreServices(env: NodeJS.ProcessEnv, logger: Logger): Promise<CoreServices> {
  const product = productService.loadConfig(env);
  const bus = createInProcessBus(product.messaging, logger);
  const services = [
    await productService.start(product, { bus }),
    await recommendationService.start(recommendationService.loadConfig(env), { bus }),
    await reviewService.start(reviewService.loadConfig(env), { bus }),
  ];
  return {
    bus,
    close: async () => {
      await bus.close();
      for (const service of services) await service.close();
    },
  };
}
