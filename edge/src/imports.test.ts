import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';

// The edge is a plain node:http server. In the all-in-one mode it runs in a thread of its own, whose
// heap holds every module it loads, so the services' framework and clients must stay out of it.
const run = promisify(execFile);

// Loads the edge in a fresh process and lists every package a module was loaded from.
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
await import('@landscape/edge');
process.stdout.write(JSON.stringify([...packages]));
`;

async function loadedByEdge(): Promise<string[]> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', loader], {
    cwd: import.meta.dirname,
  });
  return JSON.parse(stdout);
}

test('loading the edge loads no web framework, database or broker client', async () => {
  const packages = await loadedByEdge();
  assert.ok(packages.includes('pino'), `the hook saw the edge's own packages: ${packages.join(', ')}`);
  for (const heavy of ['fastify', 'kysely', 'pg', 'mysql2', 'amqplib', 'jose', '@fastify/type-provider-typebox'])
    assert.ok(!packages.includes(heavy), `the edge loaded ${heavy}`);
});

test('the ACME client and the certificate generator are not loaded before they are used', async () => {
  const packages = await loadedByEdge();
  for (const lazy of ['acme-client', '@peculiar/x509', 'reflect-metadata'])
    assert.ok(!packages.includes(lazy), `loading the edge loaded ${lazy}`);
});
