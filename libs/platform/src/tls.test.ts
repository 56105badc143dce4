import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Value } from '@landscape/vendor/typebox/value';
import { brokerConnection } from './messaging/rabbitmq/index.ts';
import { mysqlOptions, postgresOptions } from './storage/database.ts';
import { tlsConfigSchema, tlsOptions } from './tls.ts';

const folder = mkdtempSync(join(tmpdir(), 'landscape-tls-'));
after(() => rmSync(folder, { recursive: true, force: true }));

describe('tlsOptions', () => {
  test('when TLS is not configured or not enabled, then the connection is plain', () => {
    assert.equal(tlsOptions(undefined, 'db.example.test', 'database.tls'), undefined);
    assert.equal(tlsOptions(Value.Default(tlsConfigSchema, {}) as never, 'db.example.test', 'database.tls'), undefined);
  });

  test('when TLS is enabled, then the certificate is verified against the host name unless a server name is given', () => {
    assert.deepEqual(tlsOptions({ enabled: true, verify: true }, 'db.example.test', 'database.tls'), {
      servername: 'db.example.test',
      rejectUnauthorized: true,
    });
    assert.deepEqual(
      tlsOptions({ enabled: true, verify: true, serverName: 'managed.example.test' }, 'db', 'database.tls'),
      { servername: 'managed.example.test', rejectUnauthorized: true },
    );
  });

  test('when a CA file is named, then its PEM is the trust anchor; an unreadable one, or one without a certificate, fails naming the key', () => {
    const ca = join(folder, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    assert.match(
      String(tlsOptions({ enabled: true, verify: true, caFile: ca }, 'h', 'database.tls')?.ca),
      /BEGIN CERTIFICATE/,
    );
    assert.throws(
      () =>
        tlsOptions({ enabled: true, verify: true, caFile: join(folder, 'missing.pem') }, 'h', 'messaging.rabbitmq.tls'),
      /messaging\.rabbitmq\.tls\.caFile .*missing\.pem cannot be read/,
    );
    const placeholder = join(folder, 'placeholder.pem');
    writeFileSync(placeholder, 'Replace this text with the PEM certificates of your CAs.\n');
    assert.throws(
      () => tlsOptions({ enabled: true, verify: true, caFile: placeholder }, 'h', 'database.tls'),
      /database\.tls\.caFile .*placeholder\.pem holds no PEM certificate/,
    );
  });
});

describe('driver options built from configuration', () => {
  const server = {
    host: 'pg.managed.example.test',
    port: 5432,
    database: 'product',
    username: 'product',
    password: undefined,
  };

  test('when database.tls is on, then pg and mysql2 connect with TLS verified against the host; off, they send no ssl option', () => {
    const tls = { enabled: true, verify: true };
    const base = { poolSize: 1, connectTimeoutMs: 1000 };
    assert.deepEqual(postgresOptions({ kind: 'postgres', ...base, tls }, server).ssl, {
      servername: 'pg.managed.example.test',
      rejectUnauthorized: true,
    });
    assert.deepEqual(mysqlOptions({ kind: 'mysql', ...base, tls }, { ...server, port: 3306 }).ssl, {
      servername: 'pg.managed.example.test',
      rejectUnauthorized: true,
    });
    assert.equal('ssl' in postgresOptions({ kind: 'postgres', ...base }, server), false);
    assert.equal(
      'ssl' in mysqlOptions({ kind: 'mysql', ...base, tls: { enabled: false, verify: true } }, server),
      false,
    );
  });

  test('when messaging.rabbitmq.tls is on, then amqplib connects with amqps and the TLS options; off, with amqp', () => {
    const rabbit = {
      host: 'mq.managed.example.test',
      port: 5671,
      username: 'landscape',
      vhost: '/',
      heartbeatSeconds: 30,
      confirmTimeoutMs: 5000,
      reconnectInitialMs: 500,
      reconnectMaxMs: 10000,
    };
    const secure = brokerConnection({ ...rabbit, tls: { enabled: true, verify: true, serverName: 'mq.example.test' } });
    assert.equal(secure.connectOptions.protocol, 'amqps');
    assert.deepEqual(secure.socketOptions, { timeout: 5000, servername: 'mq.example.test', rejectUnauthorized: true });
    const plain = brokerConnection(rabbit);
    assert.equal(plain.connectOptions.protocol, 'amqp');
    assert.deepEqual(plain.socketOptions, { timeout: 5000 });
  });
});

describe('the prod profile', () => {
  test('when the prod profile is active, then every connection to a database or the broker uses verified TLS', async () => {
    const { loadConfig, serverConfigSchema } = await import('./index.ts');
    const { Type } = await import('@landscape/vendor/typebox');
    const { databaseConfigSchema } = await import('./storage/config.ts');
    const { messagingConfigSchema } = await import('./messaging/config.ts');
    const schema = Type.Object({
      server: serverConfigSchema,
      database: Type.Optional(databaseConfigSchema),
      messaging: messagingConfigSchema,
    });
    for (const service of ['product', 'recommendation', 'review', 'product-composite']) {
      const config = loadConfig(schema, {
        env: { CONFIG_LOCATION: 'config-repo', CONFIG_PROFILES: 'kubernetes,prod' },
        service,
      }) as {
        database?: { tls?: { enabled: boolean; verify: boolean } };
        messaging: { rabbitmq?: { port: number; tls?: { enabled: boolean; verify: boolean } } };
      };
      assert.deepEqual(config.messaging.rabbitmq?.tls, { enabled: true, verify: true }, service);
      assert.equal(config.messaging.rabbitmq?.port, 5671, service);
      if (service !== 'product-composite')
        assert.deepEqual(config.database?.tls, { enabled: true, verify: true }, service);
    }
  });
});
