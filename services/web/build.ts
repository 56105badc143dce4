// Builds the storefront into dist/: the TypeScript of client/ bundled and minified into one script,
// the page and its style sheet copied. Runs when the workspace is installed (npm ci, its prepare
// script), so nothing is built at run time.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const here = import.meta.dirname;
const dist = join(here, 'dist');
rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, 'assets'), { recursive: true });

await build({
  entryPoints: [join(here, 'client', 'main.ts')],
  outfile: join(dist, 'assets', 'app.js'),
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
});
copyFileSync(join(here, 'client', 'index.html'), join(dist, 'index.html'));
copyFileSync(join(here, 'client', 'style.css'), join(dist, 'assets', 'style.css'));
process.stdout.write(`web: built ${dist}\n`);
