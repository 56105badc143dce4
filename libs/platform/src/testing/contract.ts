import assert from 'node:assert/strict';
import { STATUS_CODES } from 'node:http';

const contractKeys = ['error', 'message', 'path', 'status', 'timestamp'];

/**
 * Asserts an answer is the API contract's error: the given status, and a body of exactly
 * `{ timestamp, path, status, error, message, requestId? }` whose status matches, whose error is the
 * status's reason phrase, whose timestamp is an ISO date, and whose message equals (or matches) the one
 * given. With `path`, the body names that path.
 */
export function assertContractError(
  answer: { status: number; body: unknown },
  status: number,
  message: string | RegExp,
  path?: string,
): void {
  const shown = JSON.stringify(answer.body);
  assert.equal(answer.status, status, `status of ${shown}`);
  assert.ok(typeof answer.body === 'object' && answer.body !== null, `an error body, not ${shown}`);
  const body = answer.body as Record<string, unknown>;
  assert.deepEqual(
    Object.keys(body)
      .filter((key) => key !== 'requestId')
      .sort(),
    contractKeys,
    `the contract's keys in ${shown}`,
  );
  if ('requestId' in body) assert.equal(typeof body['requestId'], 'string', `requestId in ${shown}`);
  assert.equal(body['status'], status, `status in ${shown}`);
  assert.equal(body['error'], STATUS_CODES[status], `error in ${shown}`);
  const time = Date.parse(String(body['timestamp']));
  assert.ok(!Number.isNaN(time) && new Date(time).toISOString() === body['timestamp'], `an ISO timestamp in ${shown}`);
  if (typeof message === 'string') assert.equal(body['message'], message);
  else assert.match(String(body['message']), message);
  if (path !== undefined) assert.equal(body['path'], path, `path in ${shown}`);
}
