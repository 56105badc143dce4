import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BundledEntry {
  /** The entry point bundled, e.g. `typebox/value`. */
  original: string;
  /** The package it belongs to, e.g. `typebox`. */
  packageName: string;
  /** The import that serves it, e.g. `@landscape/vendor/typebox/value`. */
  bundled: string;
  /** Its file under dist/<package>/, without the extension, e.g. `value`. */
  output: string;
}

/**
 * The package's exports are the one list of entry points: the build and the tests read it. Each
 * subpath is the original specifier, so `@landscape/vendor/yaml` serves `yaml`.
 */
export function bundledEntries(): BundledEntry[] {
  const manifest = JSON.parse(readFileSync(join(import.meta.dirname, 'package.json'), 'utf8')) as {
    name: string;
    exports: Record<string, unknown>;
  };
  return Object.keys(manifest.exports).map((subpath) => {
    const original = subpath.slice(2);
    const parts = original.split('/');
    const length = original.startsWith('@') ? 2 : 1;
    return {
      original,
      packageName: parts.slice(0, length).join('/'),
      bundled: `${manifest.name}${subpath.slice(1)}`,
      output: parts.slice(length).join('/') || 'index',
    };
  });
}

/**
 * The names an ES module importing `specifier` sees, as Node presents them (for a CommonJS package,
 * what its export lexer finds). The bundle re-exports exactly these.
 */
export async function exportedNames(specifier: string): Promise<string[]> {
  return Object.keys(await import(specifier))
    .filter((name) => name !== 'module.exports' && name !== '__esModule')
    .sort();
}
