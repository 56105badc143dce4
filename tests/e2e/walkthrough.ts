// The end-to-end walkthrough against any running landscape: all-in-one, one process per service, or
// a cluster behind an Ingress. HOST and PORT select the edge; the composite's management endpoints
// are reached on MGMT_URL, on localhost:7000 for a local landscape, or through kubectl port-forward.
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, fetch } from 'undici';
import { eventually } from '@landscape/platform/testing';

const HOST = process.env['HOST'] ?? 'localhost';
const PORT = process.env['PORT'] ?? '8443';
const NAMESPACE = process.env['NAMESPACE'] ?? 'hands-on';
const edge = `https://${HOST}:${PORT}`;
// The edge's development certificate is self-signed, as `curl -k` accepts it in the original script.
const dispatcher = new Agent({ connect: { rejectUnauthorized: false } });

let passed = 0;
let failed = 0;
const step = (text: string) => process.stdout.write(`\n== ${text}\n`);

function check(what: string, condition: boolean, detail = ''): void {
  if (condition) passed += 1;
  else failed += 1;
  process.stdout.write(`${condition ? 'ok  ' : 'FAIL'} ${what}${condition || !detail ? '' : ` — ${detail}`}\n`);
}

interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON read field by field
  body: any;
}

async function call(
  method: string,
  url: string,
  options: { token?: string; body?: unknown; basic?: string; form?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  let body: string | undefined;
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  if (options.basic) headers['authorization'] = `Basic ${Buffer.from(options.basic).toString('base64')}`;
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  if (options.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(options.form).toString();
  }
  const response = await fetch(url, { method, headers, body, dispatcher, signal: AbortSignal.timeout(30000) });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : '';
  } catch {
    /* not JSON: keep the text */
  }
  return { status: response.status, body: parsed };
}

async function expectStatus(
  what: string,
  status: number,
  method: string,
  path: string,
  options: Parameters<typeof call>[2] = {},
): Promise<Answer> {
  const answer = await call(method, `${edge}${path}`, options);
  check(
    `${what}: ${method} ${path} → ${status}`,
    answer.status === status,
    `got ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`,
  );
  return answer;
}

/** Awaits a probe on the running landscape; one that never passes in time counts as a failed check. */
async function awaitProbe(what: string, seconds: number, probe: () => Promise<boolean>): Promise<void> {
  // A probe that throws (the landscape is not up yet) is tried again, like one that answers false.
  await eventually(probe, { timeoutMs: seconds * 1000, intervalMs: 500, what }).catch(() =>
    check(`${what} within ${seconds} s`, false),
  );
}

/** Where the composite's own actuator answers: given, local, or a port-forward into the cluster. */
async function managementUrl(): Promise<{ url: string; close(): void }> {
  if (process.env['MGMT_URL']) return { url: process.env['MGMT_URL'], close: () => undefined };
  if (['localhost', '127.0.0.1'].includes(HOST)) return { url: 'http://127.0.0.1:7000', close: () => undefined };
  const localPort = 17000 + Math.floor(Math.random() * 1000);
  const forward: ChildProcess = spawn(
    'kubectl',
    ['-n', NAMESPACE, 'port-forward', 'svc/product-composite', `${localPort}:80`],
    { stdio: 'ignore' },
  );
  const url = `http://127.0.0.1:${localPort}`;
  // Any answer at all shows the port-forward is through.
  await eventually(() => fetch(`${url}/actuator/health`).then((answer) => answer.body?.cancel()), {
    timeoutMs: 30000,
    intervalMs: 200,
    what: 'kubectl port-forward',
  });
  return { url, close: () => forward.kill() };
}

async function token(client: string): Promise<string> {
  const answer = await call('POST', `${edge}/oauth/token`, {
    basic: `${client}:secret`,
    form: { grant_type: 'password', username: 'magnus', password: 'password' },
  });
  check(
    `password-grant token for ${client}`,
    answer.status === 200 && typeof answer.body.access_token === 'string',
    `got ${answer.status}`,
  );
  return answer.body.access_token ?? '';
}

const aggregate = (productId: number, recommendations: boolean, reviews: boolean) => ({
  productId,
  name: `product name ${productId}`,
  weight: productId,
  ...(recommendations
    ? {
        recommendations: [1, 2, 3].map((i) => ({
          recommendationId: i,
          author: `author ${i}`,
          rate: i,
          content: `content ${i}`,
        })),
      }
    : {}),
  ...(reviews
    ? {
        reviews: [1, 2, 3].map((i) => ({
          reviewId: i,
          author: `author ${i}`,
          subject: `subject ${i}`,
          content: `content ${i}`,
        })),
      }
    : {}),
});

async function main(): Promise<void> {
  process.stdout.write(`Walkthrough against ${edge}\n`);
  step('Waiting for the landscape');
  await awaitProbe(
    'the landscape answers /actuator/health UP',
    Number(process.env['WAIT_SECONDS'] ?? 300),
    async () => {
      const answer = await call('GET', `${edge}/actuator/health`);
      return answer.status === 200 && answer.body.status === 'UP';
    },
  );

  step('Tokens');
  const writer = await token('writer');
  const reader = await token('reader');

  step('Recreating products 2, 114 and 214');
  for (const [id, recs, revs] of [
    [2, true, true],
    [114, false, true],
    [214, true, false],
  ] as const) {
    await expectStatus('delete', 200, 'DELETE', `/product-composite/${id}`, { token: writer });
    await expectStatus('create', 200, 'POST', '/product-composite', { token: writer, body: aggregate(id, recs, revs) });
  }

  step('Waiting for the events to be applied');
  await awaitProbe('product 2 with 3 recommendations and 3 reviews', 60, async () => {
    const answer = await call('GET', `${edge}/product-composite/2`, { token: reader });
    return answer.status === 200 && answer.body.recommendations.length === 3 && answer.body.reviews.length === 3;
  });
  for (const id of [114, 214]) {
    await awaitProbe(
      `product ${id}`,
      60,
      async () => (await call('GET', `${edge}/product-composite/${id}`, { token: reader })).status === 200,
    );
  }

  step('The composite views');
  const full = await expectStatus('product with everything', 200, 'GET', '/product-composite/2', { token: reader });
  check('product 2 has its id', full.body.productId === 2);
  check('product 2 has 3 recommendations', full.body.recommendations?.length === 3);
  check('product 2 has 3 reviews', full.body.reviews?.length === 3);
  const noRecs = await expectStatus('product without recommendations', 200, 'GET', '/product-composite/114', {
    token: reader,
  });
  check(
    'product 114 has no recommendations and 3 reviews',
    noRecs.body.recommendations?.length === 0 && noRecs.body.reviews?.length === 3,
  );
  const noRevs = await expectStatus('product without reviews', 200, 'GET', '/product-composite/214', { token: reader });
  check(
    'product 214 has 3 recommendations and no reviews',
    noRevs.body.recommendations?.length === 3 && noRevs.body.reviews?.length === 0,
  );

  step('Errors');
  const notFound = await expectStatus('unknown product', 404, 'GET', '/product-composite/13', { token: reader });
  check('404 message', notFound.body.message === 'No product found for productId: 13', notFound.body.message);
  const invalid = await expectStatus('negative id', 422, 'GET', '/product-composite/-1', { token: reader });
  check('422 message', invalid.body.message === 'Invalid productId: -1', invalid.body.message);
  const mismatch = await expectStatus('id that is not a number', 400, 'GET', '/product-composite/invalidProductId', {
    token: reader,
  });
  check('400 message', mismatch.body.message === 'Type mismatch.', mismatch.body.message);

  step('Security');
  await expectStatus('no token', 401, 'GET', '/product-composite/2');
  await expectStatus('reader may read', 200, 'GET', '/product-composite/2', { token: reader });
  await expectStatus('reader may not create', 403, 'POST', '/product-composite', {
    token: reader,
    body: aggregate(2, true, true),
  });
  await expectStatus('reader may not delete', 403, 'DELETE', '/product-composite/2', { token: reader });

  step('Circuit breaker');
  const management = await managementUrl();
  try {
    const state = async () =>
      (await call('GET', `${management.url}/actuator/health`)).body?.components?.circuitBreakers?.details?.product
        ?.details?.state;
    check('breaker CLOSED', (await state()) === 'CLOSED', String(await state()));
    for (let i = 0; i < 3; i++) {
      const slow = await expectStatus('slow call times out', 500, 'GET', '/product-composite/2?delay=3', {
        token: reader,
      });
      check(
        'timeout message',
        String(slow.body.message).startsWith('Did not observe any item or terminal signal within 2000ms'),
        slow.body.message,
      );
    }
    check('breaker OPEN', (await state()) === 'OPEN', String(await state()));
    const fallbackSlow = await expectStatus('fallback while open', 200, 'GET', '/product-composite/2?delay=3', {
      token: reader,
    });
    check('fallback product', fallbackSlow.body.name === 'Fallback product2', fallbackSlow.body.name);
    const fallbackFast = await expectStatus('fallback for a normal call', 200, 'GET', '/product-composite/2', {
      token: reader,
    });
    check('fallback product', fallbackFast.body.name === 'Fallback product2', fallbackFast.body.name);
    const notCached = await expectStatus('not in the fallback cache', 404, 'GET', '/product-composite/13', {
      token: reader,
    });
    check(
      'fallback 404 message',
      notCached.body.message === 'Product Id: 13 not found in fallback cache!',
      notCached.body.message,
    );
    process.stdout.write('Waiting up to 15 s for the breaker to go HALF_OPEN...\n');
    await awaitProbe('breaker HALF_OPEN', 15, async () => (await state()) === 'HALF_OPEN');
    for (let i = 0; i < 3; i++) {
      const normal = await expectStatus('normal call', 200, 'GET', '/product-composite/2', { token: reader });
      check('real product', normal.body.name === 'product name 2', normal.body.name);
    }
    check('breaker CLOSED again', (await state()) === 'CLOSED', String(await state()));
    const events =
      (await call('GET', `${management.url}/actuator/circuitbreakerevents/product/STATE_TRANSITION`)).body
        .circuitBreakerEvents ?? [];
    const last = events
      .slice(-3)
      .map((e: { stateTransition: string }) => e.stateTransition)
      .join(',');
    check(
      'transitions CLOSED_TO_OPEN, OPEN_TO_HALF_OPEN, HALF_OPEN_TO_CLOSED',
      last === 'CLOSED_TO_OPEN,OPEN_TO_HALF_OPEN,HALF_OPEN_TO_CLOSED',
      last,
    );
  } finally {
    management.close();
  }
}

try {
  await main();
} catch (error) {
  check('walkthrough ran to the end', false, (error as Error).message);
}
await dispatcher.close();
process.stdout.write(`\nwalkthrough: ${passed} passed, ${failed} failed\n`);
process.exitCode = failed === 0 ? 0 : 1;
