import { completeSignIn, currentSession, signIn, signOut } from './auth.ts';
import { byId } from './dom.ts';
import { setUpManageView } from './manage.ts';
import { setUpOperatorView } from './operator.ts';
import { setUpProductView } from './product.ts';

const views = ['product', 'manage', 'operator'] as const;
type View = (typeof views)[number];

const notice = byId('notice');
const showNotice = (text: string | undefined) => {
  notice.hidden = !text;
  notice.textContent = text ?? '';
};

const operator = setUpOperatorView({
  rows: byId('service-rows'),
  state: byId('breaker-state'),
  transitions: byId('transitions'),
  form: byId<HTMLFormElement>('cycle-form'),
  log: byId('cycle-log'),
});
setUpProductView(byId<HTMLFormElement>('product-form'), byId('product-result'));
setUpManageView(byId<HTMLFormElement>('create-form'), byId<HTMLFormElement>('delete-form'), byId('manage-log'));

/** The view named by the address's fragment (#product, #manage, #operator); the operator view polls only while shown. */
function route(event?: Event): void {
  const named = location.hash.slice(1);
  const view: View = (views as readonly string[]).includes(named) ? (named as View) : 'product';
  for (const name of views) byId(`view-${name}`).hidden = name !== view;
  for (const link of document.querySelectorAll<HTMLAnchorElement>('nav a')) {
    if (link.hash === `#${view}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (view === 'operator') operator.start();
  else operator.stop();
  // A keyboard or screen-reader user lands on the view's heading, not back at the top of the page.
  if (event) byId(`${view}-heading`).focus();
}

function showAccount(): void {
  const session = currentSession();
  byId('who').textContent = session ? `Signed in as ${session.user} (${session.scopes.join(' ')})` : 'Not signed in';
  byId('sign-in').hidden = session !== undefined;
  byId('sign-out').hidden = session === undefined;
}

async function start(): Promise<void> {
  const settings = (await (await fetch('/store/api/settings')).json()) as { clientId: string; issuer: string };
  byId('sign-in').addEventListener('click', () => void signIn(settings.clientId));
  byId('sign-out').addEventListener('click', () => {
    signOut();
    showAccount();
    showNotice(undefined);
    byId('who').textContent = 'Signed out';
  });
  try {
    await completeSignIn(settings.clientId, settings.issuer);
  } catch (error) {
    showNotice((error as Error).message);
  }
  showAccount();
  window.addEventListener('hashchange', route);
  route();
}

void start().catch((error: unknown) => showNotice(`The storefront could not start: ${(error as Error).message}`));
