import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { createInProcessBus, createLogger, PROMETHEUS_PATH, type RunningService } from '@landscape/platform';
import { scrape, testEnv } from '@landscape/platform/testing';
import { productService } from '@landscape/product/service';
import { productCompositeService } from '@landscape/product-composite/service';
import {
  byKind,
  find,
  kubernetesDir,
  labelsMatch,
  renderer,
  serviceDeployments,
  services,
  stageTree,
  type DeploymentObject,
  type K8sObject,
} from './render.ts';

const tree = stageTree();
after(() => tree.remove());
const rendered = renderer(tree);

const withCollector = ['test/kustomizations/dev-observability', 'test/kustomizations/prod-observability'];
const dashboardFile = join(kubernetesDir, 'components/observability/dashboards/landscape.json');

interface ScrapeJob {
  job_name: string;
  metrics_path: string;
  dns_sd_configs: Array<{ names: string[]; type: string; port: number }>;
}
interface CollectorConfig {
  receivers: {
    otlp: { protocols: { grpc: { endpoint: string }; http: { endpoint: string } } };
    prometheus: { config: { scrape_configs: ScrapeJob[] } };
  };
  exporters: Record<string, unknown>;
  processors: Record<string, unknown>;
  service: { pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }> };
}

const httpPort = (d: DeploymentObject) =>
  d.spec?.template.spec?.containers[0]?.ports?.find((p) => p.name === 'http')?.containerPort;
type ServiceObject = K8sObject & {
  spec: {
    clusterIP?: string;
    selector: Record<string, string>;
    ports: Array<{ name?: string; port: number; targetPort?: string | number }>;
  };
};

describe('the observability component', () => {
  test('when rendered, then the collector runs a pinned contrib image with OTLP on 4317 and 4318 behind its Service', () => {
    for (const dir of withCollector) {
      const objects = rendered(dir);
      const collector = find<DeploymentObject>(objects, 'Deployment', 'otel-collector');
      const container = collector?.spec?.template.spec?.containers[0];
      assert.match(container?.image ?? '', /^otel\/opentelemetry-collector-contrib:\d+\.\d+\.\d+$/, dir);
      const service = find<ServiceObject>(objects, 'Service', 'otel-collector');
      assert.deepEqual(service?.spec.ports.map((p) => p.port).sort(), [4317, 4318]);
      for (const port of service?.spec.ports ?? []) {
        assert.ok(
          container?.ports?.some((p) => p.name === port.targetPort),
          `${dir}: target port ${String(port.targetPort)}`,
        );
      }
      assert.ok(
        labelsMatch({ matchLabels: service?.spec.selector ?? {} }, collector?.spec?.template.metadata?.labels ?? {}),
        `${dir}: the Service selects the collector`,
      );
    }
  });

  test("when the collector's configuration is read, then OTLP and every service's scrape feed pipelines whose parts are all defined", () => {
    const objects = rendered(withCollector[0] as string);
    const map = byKind<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap').find((c) =>
      c.metadata.name.startsWith('otel-collector-config-'),
    );
    const config = parse(map?.data['collector.yaml'] ?? '') as CollectorConfig;
    const volume = find<DeploymentObject>(objects, 'Deployment', 'otel-collector')?.spec?.template.spec?.volumes?.find(
      (v) => v.name === 'config',
    );
    assert.equal(volume?.configMap?.name, map?.metadata.name, 'the pod mounts the generated ConfigMap');
    assert.equal(config.receivers.otlp.protocols.grpc.endpoint, '0.0.0.0:4317');
    assert.equal(config.receivers.otlp.protocols.http.endpoint, '0.0.0.0:4318');
    for (const [name, pipeline] of Object.entries(config.service.pipelines)) {
      for (const r of pipeline.receivers) assert.ok(r in config.receivers, `${name}: receiver ${r}`);
      for (const p of pipeline.processors) assert.ok(p in config.processors, `${name}: processor ${p}`);
      for (const e of pipeline.exporters) assert.ok(e in config.exporters, `${name}: exporter ${e}`);
    }
    assert.ok(config.service.pipelines['metrics']?.receivers.includes('prometheus'));
    assert.ok(config.service.pipelines['traces']?.receivers.includes('otlp'));

    const jobs = config.receivers.prometheus.config.scrape_configs;
    assert.deepEqual(jobs.map((j) => j.job_name).sort(), [...services].sort(), 'one job per service, named after it');
    for (const job of jobs) {
      assert.equal(job.metrics_path, PROMETHEUS_PATH);
      const deployment = serviceDeployments(objects).find((d) => d.metadata.name === job.job_name) as DeploymentObject;
      const [sd] = job.dns_sd_configs;
      const headless = find<ServiceObject>(objects, 'Service', sd?.names[0] ?? '');
      assert.equal(headless?.spec.clusterIP, 'None', `${job.job_name}: a headless Service, so DNS names every pod`);
      assert.ok(
        labelsMatch({ matchLabels: headless?.spec.selector ?? {} }, deployment.spec?.template.metadata?.labels ?? {}),
        `${job.job_name}: it selects the service's pods`,
      );
      assert.equal(sd?.port, httpPort(deployment), `${job.job_name}: scraped on the container's http port`);
    }
  });

  test('when a service pod is inspected, then its annotations tell a Prometheus the port and path the service serves metrics on', () => {
    for (const dir of withCollector) {
      for (const d of serviceDeployments(rendered(dir))) {
        const annotations = d.spec?.template.metadata?.annotations ?? {};
        assert.equal(annotations['prometheus.io/scrape'], 'true', `${dir}: ${d.metadata.name}`);
        assert.equal(annotations['prometheus.io/path'], PROMETHEUS_PATH);
        assert.equal(Number(annotations['prometheus.io/port']), httpPort(d), `${dir}: ${d.metadata.name} port`);
      }
      assert.equal(
        find<DeploymentObject>(rendered(dir), 'Deployment', 'otel-collector')?.spec?.template.metadata?.annotations?.[
          'prometheus.io/scrape'
        ],
        undefined,
      );
    }
  });

  test('when the Prometheus operator component is added, then its ServiceMonitor selects exactly the five services, on a port each has', () => {
    const objects = rendered('test/kustomizations/prod-observability');
    const [monitor] = byKind<
      K8sObject & {
        spec: { selector: Parameters<typeof labelsMatch>[0]; endpoints: Array<{ port: string; path: string }> };
      }
    >(objects, 'ServiceMonitor');
    assert.ok(monitor, 'a ServiceMonitor');
    const selected = byKind<ServiceObject>(objects, 'Service').filter((s) =>
      labelsMatch(monitor.spec.selector, s.metadata.labels ?? {}),
    );
    assert.deepEqual(selected.map((s) => s.metadata.name).sort(), [...services].sort());
    for (const endpoint of monitor.spec.endpoints) {
      assert.equal(endpoint.path, PROMETHEUS_PATH);
      for (const s of selected)
        assert.ok(
          s.spec.ports.some((p) => p.name === endpoint.port),
          `${s.metadata.name} has port ${endpoint.port}`,
        );
    }
    assert.equal(
      byKind(rendered('test/kustomizations/dev-observability'), 'ServiceMonitor').length,
      0,
      'only with the operator component',
    );
  });

  test("when rendered, then the dashboard is a ConfigMap Grafana's sidecar loads, holding the dashboard file", () => {
    const map = find<K8sObject & { data: Record<string, string> }>(
      rendered(withCollector[0] as string),
      'ConfigMap',
      'landscape-dashboard',
    );
    assert.equal(map?.metadata.labels?.['grafana_dashboard'], '1');
    assert.deepEqual(JSON.parse(map?.data['landscape.json'] ?? ''), JSON.parse(readFileSync(dashboardFile, 'utf8')));
  });
});

describe('the public edge', () => {
  type Rule = { matches?: Array<{ path?: { type?: string; value?: string } }>; filters?: Array<{ type: string }> };
  const prefixMatches = (prefix: string, path: string) => {
    const trimmed = prefix.replace(/\/+$/, '');
    return trimmed === '' || path === trimmed || path.startsWith(`${trimmed}/`);
  };
  const ingressRoutes = (objects: K8sObject[]) =>
    byKind<K8sObject & { spec: { rules: Array<{ http: { paths: Array<{ path: string; pathType: string }> } }> } }>(
      objects,
      'Ingress',
    ).flatMap((i) =>
      i.spec.rules.flatMap((r) =>
        r.http.paths.map((p) => ({ name: i.metadata.name, exact: p.pathType === 'Exact', path: p.path })),
      ),
    );
  const httpRoutes = (objects: K8sObject[]) =>
    byKind<K8sObject & { spec: { rules: Rule[] } }>(objects, 'HTTPRoute')
      // A redirect to HTTPS forwards nothing.
      .flatMap((r) =>
        r.spec.rules
          .filter((rule) => !(rule.filters ?? []).some((f) => f.type === 'RequestRedirect'))
          .flatMap((rule) =>
            (rule.matches ?? [{ path: { type: 'PathPrefix', value: '/' } }]).map((m) => ({
              name: r.metadata.name,
              exact: m.path?.type === 'Exact',
              path: m.path?.value ?? '/',
            })),
          ),
      );

  test('when every rendered Ingress and HTTPRoute is matched against /actuator/prometheus, then none forwards it', () => {
    const dirs = [...withCollector, 'overlays/dev', 'overlays/prod', 'overlays/dev-gateway', 'overlays/prod-gateway'];
    const problems = dirs.flatMap((dir) =>
      [...ingressRoutes(rendered(dir)), ...httpRoutes(rendered(dir))]
        .filter((route) => (route.exact ? route.path === PROMETHEUS_PATH : prefixMatches(route.path, PROMETHEUS_PATH)))
        .map((route) => `${dir}: ${route.name} routes ${route.path}`),
    );
    assert.deepEqual(problems, []);
    // The check can fail: the routes it reads are there.
    assert.ok(ingressRoutes(rendered('overlays/dev')).some((r) => prefixMatches(r.path, '/product-composite/1')));
    assert.ok(httpRoutes(rendered('overlays/dev-gateway')).some((r) => prefixMatches(r.path, '/product-composite/1')));
  });
});

/** The metric names a PromQL expression reads: identifiers outside label matchers, ranges, strings, groupings and calls. */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const keywords = new Set([
    'by',
    'without',
    'on',
    'ignoring',
    'group_left',
    'group_right',
    'bool',
    'and',
    'or',
    'unless',
    'offset',
  ]);
  return [...stripped.matchAll(/(?<![a-zA-Z0-9_:.])[a-zA-Z_:][a-zA-Z0-9_:]*/g)]
    .filter((m) => !/^\s*\(/.test(stripped.slice((m.index ?? 0) + m[0].length)))
    .map((m) => m[0])
    .filter((name) => !keywords.has(name));
}

describe('the dashboard', () => {
  const logger = createLogger('dashboard-test', 'silent');
  let product: RunningService;
  let composite: RunningService;
  let bus: ReturnType<typeof createInProcessBus>;
  // Product on PostgreSQL shows the pool; the composite its calls and breaker; both the platform's and the runtime's.
  before(async () => {
    const env = testEnv('dashboard', 'postgres');
    bus = createInProcessBus(productService.loadConfig(env).messaging, logger);
    product = await productService.start(productService.loadConfig(env), { bus, logger });
    composite = await productCompositeService.start(
      productCompositeService.loadConfig({
        ...testEnv('product-composite', 'sqlite'),
        SECURITY_JWKS_URL: 'http://127.0.0.1:9/jwks',
        SECURITY_ISSUER: 'http://issuer.invalid',
        SECURITY_AUDIENCE: 'product-composite',
        SERVICES_PRODUCT_URL: product.url,
        SERVICES_RECOMMENDATION_URL: product.url,
        SERVICES_REVIEW_URL: product.url,
      }),
      { bus, logger },
    );
  });
  after(async () => {
    await composite.close();
    await product.close();
    await bus.close();
  });

  const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8')) as {
    panels: Array<{ title: string; type: string; targets?: Array<{ expr: string }> }>;
  };
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

  test('when the expressions are read, then the names found in them are the metrics they use', () => {
    assert.deepEqual(
      metricNames('sum by (job, le) (rate(a_bucket{job=~"$job", x="y{"}[$__rate_interval])) / on (job) b_total'),
      ['a_bucket', 'b_total'],
    );
    assert.deepEqual(metricNames('histogram_quantile(0.95, sum by (le) (rate(c_bucket[5m])))'), ['c_bucket']);
  });

  test("when every panel's PromQL is read, then it uses only series the services actually export", async () => {
    const families = new Map<string, string>();
    for (const service of [product, composite])
      for (const [name, type] of (await scrape(service.url)).families) families.set(name, type);
    const exported = new Set(
      [...families].flatMap(([name, type]) =>
        type === 'histogram' ? [`${name}_bucket`, `${name}_count`, `${name}_sum`] : [name],
      ),
    );
    assert.ok(exprs.length >= 15, 'the dashboard has its panels');
    const unknown = exprs.flatMap(({ panel, expr }) =>
      metricNames(expr)
        .filter((name) => !exported.has(name))
        .map((name) => `${panel}: ${name}`),
    );
    assert.deepEqual(unknown, []);
    // Every group the dashboard promises has a panel.
    for (const name of [
      'http_server_request_duration_seconds_bucket',
      'http_client_request_duration_seconds_bucket',
      'messaging_process_total',
      'messaging_process_retried_total',
      'messaging_process_dead_lettered_total',
      'messaging_process_lag_seconds_bucket',
      'circuit_breaker_state',
      'db_client_connection_count',
      'nodejs_eventloop_lag_p99_seconds',
    ]) {
      assert.ok(
        exprs.some(({ expr }) => metricNames(expr).includes(name)),
        `a panel shows ${name}`,
      );
    }
  });

  test("when a rate panel groups by service, then it groups by job, which both the collector's jobs and a ServiceMonitor set to the service's name", () => {
    for (const { panel, expr } of exprs) assert.match(expr, /job=~"\$job"/, `${panel} filters by the service variable`);
  });
});
