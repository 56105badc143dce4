import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

/** The built front end, made by build.ts when the workspace is installed (npm ci runs its prepare). */
export const distDir = resolve(import.meta.dirname, '..', 'dist');

export interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer;
}

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * Every built file, read once at start-up: the set of paths that can ever be answered is fixed, so no
 * request names a file on disk. A missing build stops the service with what to run.
 */
export function loadAssets(dir: string = distDir): { index: Asset; files: Map<string, Asset> } {
  const indexFile = join(dir, 'index.html');
  if (!existsSync(indexFile))
    throw new Error(
      `${indexFile} is missing: build the storefront with npm run build -w @landscape/web (npm ci does it)`,
    );
  const read = (file: string): Asset => {
    const body = readFileSync(file);
    return { type: types[extname(file)] ?? 'application/octet-stream', body, gzip: gzipSync(body, { level: 9 }) };
  };
  const assetsDir = join(dir, 'assets');
  const files = new Map<string, Asset>();
  for (const name of existsSync(assetsDir) ? readdirSync(assetsDir) : []) {
    if (extname(name) in types) files.set(name, read(join(assetsDir, name)));
  }
  return { index: read(indexFile), files };
}
