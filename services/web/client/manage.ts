import { call, explain, type Composite } from './api.ts';
import { currentSession } from './auth.ts';
import { logLine, positiveInteger, sleep } from './dom.ts';

/** How long the page waits for the core services to apply a write's events before saying so. */
const applyWaitMs = 30000;

/**
 * Create and delete. The composite answers 200 once the broker has the events; the core services apply
 * them a moment later, so the page reads the product back until it sees the result, and says when.
 */
export function setUpManageView(createForm: HTMLFormElement, deleteForm: HTMLFormElement, log: HTMLElement): void {
  createForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void run(async () => {
      const productId = positiveInteger(createForm, 'productId', 'New product id');
      const fields = new FormData(createForm);
      const weight = Number(String(fields.get('weight') ?? '').trim());
      const count = (name: string) => Math.min(5, Math.max(0, Number(fields.get(name) ?? 0) || 0));
      const author = currentSession()?.user ?? 'storefront';
      const body = {
        productId,
        name: String(fields.get('name') ?? '').trim(),
        weight,
        recommendations: Array.from({ length: count('recommendations') }, (_, i) => ({
          recommendationId: i + 1,
          author,
          rate: 5 - i,
          content: `Recommendation ${i + 1} from the storefront`,
        })),
        reviews: Array.from({ length: count('reviews') }, (_, i) => ({
          reviewId: i + 1,
          author,
          subject: `Review ${i + 1}`,
          content: `Review ${i + 1} from the storefront`,
        })),
      };
      logLine(
        log,
        `Creating product ${productId} with ${body.recommendations.length} recommendations and ${body.reviews.length} reviews…`,
      );
      const answer = await call('POST', '/product-composite', body);
      if (answer.status !== 200) return logLine(log, explain(answer), 'error');
      logLine(log, `Accepted (${answer.status}): the events are published. Waiting for them to be applied…`);
      const applied = await until(async () => {
        const read = await call<Composite>('GET', `/product-composite/${productId}`);
        return (
          read.status === 200 &&
          read.body.name === body.name &&
          read.body.recommendations.length === body.recommendations.length &&
          read.body.reviews.length === body.reviews.length
        );
      });
      return applied
        ? logLine(
            log,
            `Events applied: product ${productId} "${body.name}" is readable with ${body.recommendations.length} recommendations and ${body.reviews.length} reviews.`,
            'ok',
          )
        : logLine(
            log,
            `The events for product ${productId} were not all applied within ${applyWaitMs / 1000} s.`,
            'error',
          );
    });
  });

  deleteForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void run(async () => {
      const productId = positiveInteger(deleteForm, 'productId', 'Product id to delete');
      logLine(log, `Deleting product ${productId}…`);
      const answer = await call('DELETE', `/product-composite/${productId}`);
      if (answer.status !== 200) return logLine(log, explain(answer), 'error');
      logLine(log, `Accepted (${answer.status}): the events are published. Waiting for them to be applied…`);
      const applied = await until(async () => (await call('GET', `/product-composite/${productId}`)).status === 404);
      return applied
        ? logLine(log, `Events applied: product ${productId} is gone (404).`, 'ok')
        : logLine(log, `Product ${productId} could still be read after ${applyWaitMs / 1000} s.`, 'error');
    });
  });

  async function run(action: () => Promise<unknown>): Promise<void> {
    try {
      await action();
    } catch (error) {
      logLine(log, (error as Error).message, 'error');
    }
  }
}

async function until(check: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + applyWaitMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(300);
  }
  return false;
}
