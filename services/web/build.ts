// Builds the storefront into dist/: the TypeScript of client/ bundled and minified into one script,
// the page and its style sheet copied. Runs when the workspace is installed (npm ci, its prepare
// script), so nothing is built at run time.
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
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
// What a browser downloads: each file as built and gzipped, as the web service sends it.
const files = ['index.html', 'assets/app.js', 'assets/style.css'].map((name) => {
  const body = readFileSync(join(dist, name));
  return { name, bytes: body.length, gzip: gzipSync(body, { level: 9 }).length };
});
const total = files.reduce((sum, f) => ({ bytes: sum.bytes + f.bytes, gzip: sum.gzip + f.gzip }), {
  bytes: 0,
  gzip: 0,
});
const lines = files.map(
  (f) => `  ${f.name.padEnd(18)} ${String(f.bytes).padStart(6)} B  ${String(f.gzip).padStart(6)} B gzip`,
);
process.stdout.write(
  `web: built ${relative(process.cwd(), dist) || dist}\n${lines.join('\n')}\n  ${'total'.padEnd(18)} ${String(total.bytes).padStart(6)} B  ${String(total.gzip).padStart(6)} B gzip\n`,
);
