import assert from 'node:assert/strict';
import { test } from 'node:test';
import { packagesLoadedBy } from '@landscape/platform/testing';

// The edge is a plain node:http server. In the all-in-one mode it runs in a thread of its own, whose
// heap holds every module it loads, so the services' framework and clients must stay out of it.
const loadedByEdge = () => packagesLoadedBy('@landscape/edge', import.meta.dirname);

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
