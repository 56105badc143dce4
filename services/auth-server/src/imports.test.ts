import assert from 'node:assert/strict';
import { test } from 'node:test';
import { packagesLoadedBy } from '@landscape/platform/testing';

// The Redis client is hundreds of modules; only an auth-server whose auth.store.kind is redis loads it.
test('loading the auth-server loads no Redis client', async () => {
  const packages = await packagesLoadedBy('@landscape/auth-server/service', import.meta.dirname);
  assert.ok(packages.includes('oidc-provider'), `the hook saw the auth-server's packages: ${packages.join(', ')}`);
  assert.ok(!packages.includes('@redis/client'), 'the auth-server loaded @redis/client');
});
