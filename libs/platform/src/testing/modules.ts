import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

// Runs in a fresh process: records the URL of every module resolved while `specifier` loads.
const loader = `
import { registerHooks } from 'node:module';
const urls = new Set();
registerHooks({
  resolve(specifier, context, next) {
    const resolved = next(specifier, context);
    urls.add(resolved.url);
    return resolved;
  },
});
await import(process.argv[1]);
process.stdout.write(JSON.stringify([...urls]));
`;

/** The URL of every module a fresh process loads when it imports `specifier` (resolved from `cwd`). */
export async function modulesLoadedBy(specifier: string, cwd: string): Promise<string[]> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', loader, specifier], { cwd });
  return JSON.parse(stdout);
}

/** `fastify` for a module of node_modules/fastify, `undici` for one of libs/vendor's undici bundle. */
function packageOf(url: string): string | undefined {
  return /\/(?:node_modules|libs\/vendor\/dist)\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];
}

/**
 * The npm packages a fresh process loads when it imports `specifier`, whether from their own modules
 * or from libs/vendor's bundles. Every module loaded stays resident, so this is how a test keeps a
 * heavy package out of a process.
 */
export async function packagesLoadedBy(specifier: string, cwd: string): Promise<string[]> {
  const packages = (await modulesLoadedBy(specifier, cwd)).map(packageOf);
  return [...new Set(packages.filter((name) => name !== undefined))];
}
