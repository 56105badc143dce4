// TypeBox ships as about 700 small modules, and Node keeps roughly 15 KiB resident for every module it
// loads, however small: about 10 MiB per service. Bundled into a few files, the same code costs a
// fraction of that. The three entry points share their code through chunks, so there is one TypeBox.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const outdir = join(import.meta.dirname, 'dist');
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { index: 'typebox', value: 'typebox/value', compile: 'typebox/compile' },
  absWorkingDir: import.meta.dirname,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  outdir,
  logLevel: 'warning',
});
