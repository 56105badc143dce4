import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

// Runs in a fresh process: records the package of every module resolved while `specifier` loads.
const loader = `
import { registerHooks } from 'node:module';
const packages = new Set();
registerHooks({
  resolve(specifier, context, next) {
    const resolved = next(specifier, context);
    const match = /\\/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(resolved.url);
    if (match) packages.add(match[1]);
    return resolved;
  },
});
await import(process.argv[1]);
process.stdout.write(JSON.stringify([...packages]));
`;

/**
 * The npm packages a fresh process loads when it imports `specifier` (resolved from `cwd`). Every
 * module loaded stays resident, so this is how a test keeps a heavy package out of a process.
 */
export async function packagesLoadedBy(specifier: string, cwd: string): Promise<string[]> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', loader, specifier], { cwd });
  return JSON.parse(stdout);
}
