import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { modulesLoadedBy } from '@landscape/platform/testing';
import { bundledEntries, exportedNames } from '../entries.ts';

const entries = bundledEntries();
const bundledPackages = [...new Set(entries.map((e) => e.packageName))];

/** The packages bundled here that a fresh process importing `specifier` loads from their own modules. */
async function unbundledLoadedBy(specifier: string): Promise<string[]> {
  const urls = await modulesLoadedBy(specifier, import.meta.dirname);
  assert.ok(
    urls.some((url) => url.includes('/libs/vendor/dist/')),
    `the hook saw the bundles: ${urls.join(', ')}`,
  );
  return bundledPackages.filter((name) => urls.some((url) => url.includes(`/node_modules/${name}/`)));
}

describe('the bundled packages', () => {
  for (const { original, bundled } of entries)
    it(`${bundled} exports every name ${original} exports, and the same kind of default`, async () => {
      assert.deepEqual(await exportedNames(bundled), await exportedNames(original));
      const [ours, theirs] = [await import(bundled), await import(original)];
      assert.equal(typeof ours.default, typeof theirs.default);
    });

  it('is one TypeBox: a schema built by one entry point is checked and compiled by the others', async () => {
    const { Type } = await import('@landscape/vendor/typebox');
    const { Value } = await import('@landscape/vendor/typebox/value');
    const { Compile } = await import('@landscape/vendor/typebox/compile');
    const schema = Type.Object({ productId: Type.Integer({ minimum: 1 }) });
    assert.equal(Value.Check(schema, { productId: 1 }), true);
    assert.equal(Value.Check(schema, { productId: 0 }), false);
    assert.equal(Compile(schema).Check({ productId: 'one' }), false);
  });

  it('oidc-provider imports jose from the bundle too, so the auth-server has one jose', async () => {
    assert.deepEqual(await unbundledLoadedBy('@landscape/vendor/oidc-provider'), []);
  });

  // Loaded from their own modules, these packages cost product about 1 MiB and the auth-server 3 MiB more.
  for (const entry of [
    '@landscape/product/service',
    '@landscape/product-composite/service',
    '@landscape/auth-server/service',
  ])
    it(`when ${entry} loads, then every package bundled here comes from the bundle`, async () => {
      assert.deepEqual(await unbundledLoadedBy(entry), []);
    });
});
