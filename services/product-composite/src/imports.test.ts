import assert from 'node:assert/strict';
import { test } from 'node:test';
import { packagesLoadedBy } from '@landscape/platform/testing';

// The composite has no database and, in its own process, keeps only the modules it uses resident.
test('loading the composite loads no query builder, database driver or broker client', async () => {
  const packages = await packagesLoadedBy('@landscape/product-composite/service', import.meta.dirname);
  assert.ok(packages.includes('fastify'), `the hook saw the composite's own packages: ${packages.join(', ')}`);
  for (const unused of ['kysely', 'pg', 'mysql2', 'amqplib'])
    assert.ok(!packages.includes(unused), `the composite loaded ${unused}`);
});
