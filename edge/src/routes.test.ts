import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repositoryRoot } from './config.ts';
import { matchRoute, readIngressRoutes, type Route } from './routes.ts';

const route = (path: string, pathType: Route['pathType'], service: string): Route => ({
  path,
  pathType,
  service,
  port: 80,
});

describe('edge routes', () => {
  it('reads the routes of the repository Ingress manifest, the one the cluster uses', () => {
    const routes = readIngressRoutes(join(repositoryRoot, 'kubernetes/base/ingress.yaml'));
    assert.deepEqual(matchRoute(routes, '/oauth/token')?.service, 'auth-server');
    assert.deepEqual(matchRoute(routes, '/.well-known/openid-configuration')?.service, 'auth-server');
    assert.deepEqual(matchRoute(routes, '/product-composite/1')?.service, 'product-composite');
    assert.deepEqual(matchRoute(routes, '/actuator/health')?.service, 'product-composite');
    assert.equal(matchRoute(routes, '/actuator/info'), undefined, 'only health is published');
    assert.equal(matchRoute(routes, '/product/1'), undefined, 'core services stay internal');
    assert.equal(matchRoute(routes, '/store/')?.service, 'web');
    assert.equal(matchRoute(routes, '/store/assets/app.js')?.service, 'web');
    assert.equal(matchRoute(routes, '/')?.service, 'web', 'the bare origin redirects to the storefront');
    assert.equal(matchRoute(routes, '/storefront'), undefined);
    assert.equal(matchRoute(routes, '/unknown'), undefined, "any other path is still the edge's own 404");
  });

  it('matches Prefix by path element, not by string prefix', () => {
    const routes = [route('/foo', 'Prefix', 'a')];
    assert.equal(matchRoute(routes, '/foo')?.service, 'a');
    assert.equal(matchRoute(routes, '/foo/')?.service, 'a');
    assert.equal(matchRoute(routes, '/foo/bar')?.service, 'a');
    assert.equal(matchRoute(routes, '/foobar'), undefined);
    assert.equal(
      matchRoute([route('/foo/', 'Prefix', 'a')], '/foo')?.service,
      'a',
      'a trailing slash in the rule is ignored',
    );
    assert.equal(matchRoute([route('/', 'Prefix', 'root')], '/anything')?.service, 'root');
  });

  it('matches Exact only on the whole path', () => {
    const routes = [route('/foo', 'Exact', 'a')];
    assert.equal(matchRoute(routes, '/foo')?.service, 'a');
    assert.equal(matchRoute(routes, '/foo/'), undefined);
    assert.equal(matchRoute(routes, '/foo/bar'), undefined);
  });

  it('picks the longest matching path, and Exact over Prefix of the same path', () => {
    const routes = [
      route('/', 'Prefix', 'root'),
      route('/api', 'Prefix', 'api'),
      route('/api/v2', 'Prefix', 'v2'),
      route('/api', 'Exact', 'exact'),
    ];
    assert.equal(matchRoute(routes, '/api/v2/x')?.service, 'v2');
    assert.equal(matchRoute(routes, '/api/v1')?.service, 'api');
    assert.equal(matchRoute(routes, '/api')?.service, 'exact');
    assert.equal(matchRoute(routes, '/other')?.service, 'root');
  });

  it('refuses a manifest it cannot honour, naming the path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ingress-'));
    const write = (paths: string) => {
      const file = join(dir, 'ingress.yaml');
      writeFileSync(
        file,
        `apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: x}\nspec:\n  rules:\n  - http:\n      paths:\n${paths}`,
      );
      return file;
    };
    assert.throws(
      () =>
        readIngressRoutes(
          write(
            '      - {path: /x, pathType: ImplementationSpecific, backend: {service: {name: a, port: {number: 80}}}}\n',
          ),
        ),
      /\/x has pathType ImplementationSpecific/,
    );
    assert.throws(
      () => readIngressRoutes(write('      - {path: /x, pathType: Prefix, backend: {resource: {kind: Bucket}}}\n')),
      /\/x needs a backend service/,
    );
    assert.throws(() => readIngressRoutes(write('')), /no Ingress paths/);
  });
});
