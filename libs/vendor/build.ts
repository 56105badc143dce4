// Packages such as TypeBox (about 700 modules), oidc-provider or undici ship as hundreds of small
// modules, and Node keeps roughly 15 KiB resident for every module it loads, however small. Bundled
// into a few files, the same code costs a fraction of that.
//
// Each package is built on its own into dist/<package>/, so a CPU profile still tells them apart. A
// package's entry points share their code through chunks, and a package that imports another one
// bundled here (oidc-provider imports jose) imports the bundle: each is loaded once.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { bundledEntries, exportedNames } from './entries.ts';

const entries = bundledEntries();
const bundledBy = new Map(entries.map((e) => [e.original, e]));

function entryPoints(packageName: string): Plugin {
  return {
    name: 'entry-points',
    setup(on) {
      // Each entry re-exports its original's names one by one: for a CommonJS package, `export *`
      // would give Node no names to link against.
      on.onResolve({ filter: /^entry:/ }, (args) => ({ path: args.path.slice('entry:'.length), namespace: 'entry' }));
      on.onLoad({ filter: /.*/, namespace: 'entry' }, async (args) => ({
        contents: `export { ${(await exportedNames(args.path)).join(', ')} } from '${args.path}';`,
        resolveDir: import.meta.dirname,
        loader: 'js',
      }));
      on.onResolve({ filter: /^[^.]/ }, (args) => {
        const other = bundledBy.get(args.path);
        return other && other.packageName !== packageName ? { path: other.bundled, external: true } : undefined;
      });
    },
  };
}

const outdir = join(import.meta.dirname, 'dist');
rmSync(outdir, { recursive: true, force: true });
const packages = Map.groupBy(entries, (e) => e.packageName);
for (const [packageName, ofPackage] of packages)
  await build({
    entryPoints: ofPackage.map((e) => ({ in: `entry:${e.original}`, out: e.output })),
    plugins: [entryPoints(packageName)],
    absWorkingDir: import.meta.dirname,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    // CommonJS code inside an ES module still calls require() for Node's built-in modules.
    banner: {
      js: "import { createRequire as vendorRequire } from 'node:module'; const require = vendorRequire(import.meta.url);",
    },
    outdir: join(outdir, packageName),
    logLevel: 'warning',
  });
