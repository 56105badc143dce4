import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { packagesLoadedBy } from '@landscape/platform/testing';
import { bundledEntries } from '../entries.ts';

describe('the bundled TypeBox', () => {
  it('exports every name TypeBox exports, from each entry point', async () => {
    for (const { original, bundled } of bundledEntries()) {
      const expected = Object.keys(await import(original)).sort();
      assert.deepEqual(Object.keys(await import(bundled)).sort(), expected, bundled);
    }
  });

  it('is one TypeBox: a schema built by one entry point is checked and compiled by the others', async () => {
    const { Type } = await import('@landscape/typebox');
    const { Value } = await import('@landscape/typebox/value');
    const { Compile } = await import('@landscape/typebox/compile');
    const schema = Type.Object({ productId: Type.Integer({ minimum: 1 }) });
    assert.equal(Value.Check(schema, { productId: 1 }), true);
    assert.equal(Value.Check(schema, { productId: 0 }), false);
    assert.equal(Compile(schema).Check({ productId: 'one' }), false);
  });

  // Loaded from its own ~700 modules, TypeBox would cost each process about 10 MiB more.
  for (const entry of [
    '@landscape/product/service',
    '@landscape/product-composite/service',
    '@landscape/auth-server/service',
  ])
    it(`when ${entry} loads, then TypeBox comes from the bundle, not from its own modules`, async () => {
      const packages = await packagesLoadedBy(entry, import.meta.dirname);
      assert.ok(packages.includes('fastify'), `the hook saw the service's packages: ${packages.join(', ')}`);
      assert.ok(!packages.includes('typebox'), 'the service loaded the typebox package itself');
    });
});
