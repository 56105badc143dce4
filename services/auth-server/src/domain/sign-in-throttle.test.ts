import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSignInThrottle } from './sign-in-throttle.ts';

const settings = { maxFailuresPerUser: 3, maxFailuresPerClient: 5, windowSeconds: 60, maxTracked: 100 };

describe('sign-in throttle', () => {
  it('when a user has failed as often as allowed, then the next attempt waits until the window ends, whichever client asks', () => {
    let clock = 1_000_000;
    const throttle = createSignInThrottle(settings, () => clock);
    for (let i = 0; i < 3; i++) {
      assert.equal(throttle.retryAfter({ client: 'writer', user: 'magnus' }), 0);
      throttle.failed({ client: 'writer', user: 'magnus' });
    }
    assert.equal(throttle.retryAfter({ client: 'writer', user: 'magnus' }), 60);
    assert.equal(throttle.retryAfter({ client: 'reader', user: 'magnus' }), 60);
    assert.equal(throttle.retryAfter({ client: 'writer', user: 'someone-else' }), 0);
    clock += 59_500;
    assert.equal(throttle.retryAfter({ client: 'writer', user: 'magnus' }), 1);
    clock += 500;
    assert.equal(throttle.retryAfter({ client: 'writer', user: 'magnus' }), 0);
  });

  it('when one client fails for many users, then that client waits, other clients do not', () => {
    let clock = 0;
    const throttle = createSignInThrottle(settings, () => clock);
    for (let i = 0; i < 5; i++) throttle.failed({ client: 'reader', user: `user${i}` });
    assert.equal(throttle.retryAfter({ client: 'reader', user: 'magnus' }), 60);
    assert.equal(throttle.retryAfter({ client: 'writer', user: 'magnus' }), 0);
    clock += 60_000;
    assert.equal(throttle.retryAfter({ client: 'reader', user: 'magnus' }), 0);
  });

  it("when a user signs in successfully, then that user's failures are forgotten but the client's are not", () => {
    const throttle = createSignInThrottle(settings, () => 0);
    for (let i = 0; i < 2; i++) throttle.failed({ client: 'writer', user: 'magnus' });
    throttle.succeeded({ client: 'writer', user: 'magnus' });
    for (let i = 0; i < 2; i++) throttle.failed({ client: 'writer', user: 'magnus' });
    assert.equal(throttle.retryAfter({ client: 'writer', user: 'magnus' }), 0);
    throttle.failed({ client: 'writer', user: 'x' });
    assert.equal(throttle.retryAfter({ client: 'writer', user: 'y' }), 60);
  });

  it('when more names are tried than it tracks, then it keeps at most maxTracked of them', () => {
    const throttle = createSignInThrottle({ ...settings, maxFailuresPerClient: 1_000_000, maxTracked: 10 }, () => 0);
    for (let i = 0; i < 1000; i++) throttle.failed({ client: 'writer', user: `user${i}${'x'.repeat(5_000)}` });
    assert.ok(throttle.size() <= 10);
    assert.equal(throttle.retryAfter({ client: 'writer', user: 'magnus' }), 0);
  });
});
