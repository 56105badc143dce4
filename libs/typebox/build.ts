// TypeBox ships as about 700 small modules, and Node keeps roughly 15 KiB resident for every module it
// loads, however small: about 10 MiB per service. Bundled into a few files, the same code costs a
// fraction of that. The entry points share their code through chunks, so there is one TypeBox.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { bundledEntries } from './entries.ts';

const outdir = join(import.meta.dirname, 'dist');
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: Object.fromEntries(bundledEntries().map((entry) => [entry.output, entry.original])),
  absWorkingDir: import.meta.dirname,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  outdir,
  logLevel: 'warning',
});
