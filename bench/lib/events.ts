import { aggregate, call, complete, compositeUrl, deleteProduct, postProduct } from './landscape.ts';
import { median, percentile } from './stats.ts';

export interface EventFigures {
  p50: number;
  p99: number;
  /** Median time of one composite GET while polling: the resolution of the measurement. */
  getMs: number;
  /** Share of products already complete in the first GET after the POST's answer. */
  firstGetPercent: number;
  products: number;
  latencies: number[];
}

/**
 * For each new product: POST it with one recommendation and one review, then poll the composite GET
 * back to back until all three parts show. The latency runs from the POST's 200 to the answer of the
 * first GET that shows everything, so it includes one GET; getMs says how long one takes.
 */
export async function measureEventLatency(
  reader: string,
  writer: string,
  options: { firstId: number; count: number; tag: string; timeoutMs?: number },
): Promise<EventFigures> {
  const timeoutMs = options.timeoutMs ?? 30000;
  const latencies: number[] = [];
  const gets: number[] = [];
  let firstGet = 0;
  for (let i = 0; i < options.count; i++) {
    const product = aggregate(options.firstId + i, options.tag, 1);
    await postProduct(writer, product);
    const accepted = performance.now();
    for (let attempt = 1; ; attempt++) {
      const sent = performance.now();
      const answer = await call('GET', `${compositeUrl}/product-composite/${product.productId}`, { token: reader });
      const now = performance.now();
      gets.push(now - sent);
      if (complete(answer, product)) {
        latencies.push(now - accepted);
        if (attempt === 1) firstGet += 1;
        break;
      }
      if (answer.status !== 200 && answer.status !== 404)
        throw new Error(`GET product ${product.productId}: ${answer.status} ${JSON.stringify(answer.body)}`);
      if (now - accepted > timeoutMs)
        throw new Error(`product ${product.productId} not complete ${timeoutMs / 1000} s after its POST`);
    }
  }
  return {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    getMs: median(gets),
    firstGetPercent: (100 * firstGet) / latencies.length,
    products: latencies.length,
    latencies,
  };
}

/** Leaves the real databases as they were. */
export async function deleteProducts(writer: string, firstId: number, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await deleteProduct(writer, firstId + i);
}
