import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const root = join(import.meta.dirname, '..');

describe('the contract package', () => {
  it('when the contract is installed, then it brings the bundled TypeBox alone: no HTTP server, database driver or broker client', () => {
    const dependencies = (path: string) =>
      Object.keys((JSON.parse(readFileSync(path, 'utf8')) as { dependencies?: object }).dependencies ?? {});
    assert.deepEqual(dependencies(join(root, 'package.json')), ['@landscape/vendor']);
    // The bundles are self-contained: installing them installs nothing else.
    assert.deepEqual(dependencies(join(root, '..', 'vendor', 'package.json')), []);
    for (const file of readdirSync(join(root, 'src')).filter(
      (name) => name.endsWith('.ts') && !name.endsWith('.test.ts'),
    )) {
      const imported = [...readFileSync(join(root, 'src', file), 'utf8').matchAll(/^import .* from '([^']+)';$/gm)].map(
        (match) => match[1] ?? '',
      );
      assert.deepEqual(
        imported.filter((name) => !name.startsWith('./') && !name.startsWith('@landscape/vendor/typebox')),
        [],
        file,
      );
    }
  });
});
