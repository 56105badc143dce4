import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Type } from '@landscape/vendor/typebox';
import { ConfigError, envName, loadConfig } from './config.ts';

const schema = Type.Object({
  server: Type.Object({ port: Type.Integer({ minimum: 1 }), host: Type.String({ default: '0.0.0.0' }) }),
  database: Type.Object({
    host: Type.String(),
    poolSize: Type.Integer({ default: 10 }),
    password: Type.Optional(Type.String()),
  }),
  features: Type.Object(
    { enabled: Type.Boolean({ default: false }), names: Type.Array(Type.String(), { default: [] }) },
    { default: {} },
  ),
  mode: Type.Union([Type.Literal('a'), Type.Literal('b')], { default: 'a' }),
});

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'config-test-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const load = (dir: string, env: Record<string, string> = {}) =>
  loadConfig(schema, { service: 'svc', secretKeys: ['database.password'], env: { CONFIG_LOCATION: dir, ...env } });

describe('configuration', () => {
  const base = {
    'application.yml': 'server:\n  port: 8000\ndatabase:\n  host: shared\n',
    'svc.yml':
      'server:\n  port: 7001\n---\non-profile: docker\ndatabase:\n  host: docker-db\n---\non-profile: prod\ndatabase:\n  host: prod-db\n  poolSize: 50\n',
  };

  it('when a folder is given, then application.yml is read first and <service>.yml overrides it', () => {
    const config = load(folder(base));
    assert.equal(config.server.port, 7001);
    assert.equal(config.database.host, 'shared');
    assert.equal(config.database.poolSize, 10, 'defaults apply');
    assert.equal(config.server.host, '0.0.0.0');
  });

  it('when a file holds a section the schema does not declare, then the loaded configuration leaves it out', () => {
    const config = load(
      folder({
        'application.yml': 'server:\n  port: 8000\n  tls: on\ndatabase:\n  host: db\nmessaging:\n  kind: rabbitmq\n',
      }),
    );
    assert.deepEqual(config.server, { port: 8000, host: '0.0.0.0' });
    assert.equal('messaging' in config, false);
  });

  it('when profiles are active, then their sections apply in the order CONFIG_PROFILES lists them', () => {
    const dir = folder(base);
    assert.equal(load(dir, { CONFIG_PROFILES: 'docker' }).database.host, 'docker-db');
    assert.equal(load(dir, { CONFIG_PROFILES: 'docker,prod' }).database.host, 'prod-db');
    assert.equal(load(dir, { CONFIG_PROFILES: 'prod,docker' }).database.host, 'docker-db');
    assert.equal(
      load(dir, { CONFIG_PROFILES: 'prod,docker' }).database.poolSize,
      50,
      'keys a later profile does not set are kept',
    );
  });

  it('when an environment variable names a key, then it overrides every file and profile', () => {
    const config = load(folder(base), {
      CONFIG_PROFILES: 'prod',
      DATABASE_HOST: 'env-db',
      DATABASE_POOL_SIZE: '3',
      FEATURES_ENABLED: 'true',
      FEATURES_NAMES: 'x, y',
      MODE: 'b',
    });
    assert.equal(config.database.host, 'env-db');
    assert.equal(config.database.poolSize, 3);
    assert.equal(config.features.enabled, true);
    assert.deepEqual(config.features.names, ['x', 'y']);
    assert.equal(config.mode, 'b');
  });

  it('when CONFIG_LOCATION lists files, then they are read in that order', () => {
    const dir = folder({
      'one.yml': 'server:\n  port: 1\ndatabase:\n  host: one\n',
      'two.yml': 'server:\n  port: 2\n',
    });
    const config = load(`${join(dir, 'one.yml')},${join(dir, 'two.yml')}`);
    assert.equal(config.server.port, 2);
    assert.equal(config.database.host, 'one');
  });

  it('when a required key is missing, then start-up stops naming the key and its variable', () => {
    const dir = folder({ 'application.yml': 'server:\n  port: 8000\ndatabase: {}\n' });
    assert.throws(
      () => load(dir),
      (error: Error) =>
        error instanceof ConfigError &&
        error.message.includes('database.host') &&
        error.message.includes('DATABASE_HOST'),
    );
  });

  it('when a value has the wrong type, then start-up stops naming the key', () => {
    assert.throws(() => load(folder(base), { SERVER_PORT: 'eighty' }), /server\.port/);
    assert.throws(() => load(folder(base), { MODE: 'c' }), /mode/);
  });

  it('when a file holds a credential, then start-up refuses it and names the variable to use instead', () => {
    const dir = folder({ 'application.yml': 'server:\n  port: 1\ndatabase:\n  host: h\n  password: hunter2\n' });
    assert.throws(() => load(dir), /database\.password is a credential.*DATABASE_PASSWORD/);
    assert.equal(load(folder(base), { DATABASE_PASSWORD: 'from-secret' }).database.password, 'from-secret');
  });

  it('when CONFIG_LOCATION names a missing path or the YAML is broken, then start-up stops saying which', () => {
    assert.throws(() => load('/nonexistent/config'), /CONFIG_LOCATION entry not found: \/nonexistent\/config/);
    assert.throws(() => load(folder({ 'application.yml': 'server: [1,\n' })), /Invalid YAML in .*application\.yml/);
  });

  it('maps camelCase keys to upper snake case variables', () => {
    assert.equal(envName('messaging.rabbitmq.confirmTimeoutMs'), 'MESSAGING_RABBITMQ_CONFIRM_TIMEOUT_MS');
  });
});
