import { call, explain, type Composite } from './api.ts';
import { h } from './dom.ts';

/** The composite's answer with its partial and fallback states said in words. */
export function renderComposite(product: Composite): HTMLElement {
  const fallback = product.serviceAddresses.pro === '';
  const states: HTMLElement[] = [];
  if (fallback) {
    states.push(
      h(
        'p',
        { class: 'state', role: 'status' },
        'Fallback answer: the circuit breaker is open, so the product service was not called. Name and weight are placeholders.',
      ),
    );
  }
  const part = <T>(title: string, items: T[], missing: string, line: (item: T) => string) =>
    h(
      'section',
      { 'aria-label': title },
      h('h3', {}, `${title} (${items.length})`),
      items.length === 0
        ? h('p', { class: 'state' }, missing)
        : h('ul', {}, ...items.map((item) => h('li', {}, line(item)))),
    );
  return h(
    'article',
    { 'aria-label': `Product ${product.productId}` },
    h('h2', {}, product.name),
    ...states,
    h(
      'dl',
      {},
      h('dt', {}, 'Product id'),
      h('dd', {}, String(product.productId)),
      h('dt', {}, 'Weight'),
      h('dd', {}, String(product.weight)),
    ),
    part(
      'Recommendations',
      product.recommendations,
      'Partial answer: no recommendations for this product.',
      (r) => `${r.author} rates it ${r.rate} (recommendation ${r.recommendationId})`,
    ),
    part(
      'Reviews',
      product.reviews,
      'Partial answer: no reviews for this product.',
      (r) => `${r.subject} by ${r.author} (review ${r.reviewId})`,
    ),
    h(
      'p',
      { class: 'addresses' },
      `Answered by composite ${product.serviceAddresses.cmp}, product ${product.serviceAddresses.pro || '(fallback)'}, ` +
        `recommendation ${product.serviceAddresses.rec || '(none)'}, review ${product.serviceAddresses.rev || '(none)'}`,
    ),
  );
}

export function setUpProductView(form: HTMLFormElement, result: HTMLElement): { show(id: string): Promise<void> } {
  const show = async (id: string) => {
    result.replaceChildren(h('p', {}, `Loading product ${id}…`));
    try {
      // Whatever was typed goes to the composite, so its own answers (422 for -1, 400 for text) are shown as they are.
      const answer = await call<Composite>('GET', `/product-composite/${encodeURIComponent(id)}`);
      result.replaceChildren(
        answer.status === 200
          ? renderComposite(answer.body)
          : h('p', { class: 'error', role: 'alert' }, explain(answer)),
      );
    } catch (error) {
      result.replaceChildren(
        h('p', { class: 'error', role: 'alert' }, `The landscape did not answer: ${(error as Error).message}`),
      );
    }
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void show(String(new FormData(form).get('productId') ?? '').trim());
  });
  return { show };
}
