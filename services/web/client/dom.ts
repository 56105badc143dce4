/** Elements built from text only (never HTML strings), so nothing an API returns can become markup. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element as T;
}

/** Adds a line to a progress log and returns it. */
export function logLine(list: HTMLElement, text: string, kind: 'ok' | 'error' | 'state' | '' = ''): HTMLLIElement {
  const line = h('li', kind ? { class: kind } : {}, text);
  list.append(line);
  return line;
}

/** A form field's value as a positive integer, or a message naming the field. */
export function positiveInteger(form: HTMLFormElement, name: string, label: string): number {
  const raw = String(new FormData(form).get(name) ?? '').trim();
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < 1 || value > 2147483647)
    throw new Error(`${label} must be a whole number from 1 to 2147483647 (got "${raw}")`);
  return value;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
