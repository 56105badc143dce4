import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export interface BundledEntry {
  /** The TypeBox entry point bundled, e.g. `typebox/value`. */
  original: string;
  /** The import that serves it, e.g. `@landscape/typebox/value`. */
  bundled: string;
  /** The file's name in dist/ without its extension, e.g. `value`. */
  output: string;
}

/** The package's exports are the one list of entry points: the build and the tests read it. */
export function bundledEntries(): BundledEntry[] {
  const manifest = JSON.parse(readFileSync(join(import.meta.dirname, 'package.json'), 'utf8')) as {
    name: string;
    exports: Record<string, { default: string }>;
  };
  return Object.entries(manifest.exports).map(([subpath, target]) => {
    const rest = subpath === '.' ? '' : subpath.slice(1);
    return { original: `typebox${rest}`, bundled: `${manifest.name}${rest}`, output: basename(target.default, '.js') };
  });
}
