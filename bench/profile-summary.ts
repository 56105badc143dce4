// Summarises V8 .cpuprofile files (node --cpu-prof): where the CPU time went, by function, by module
// and by what the landscape does (TLS, JWT verification, logging, the HTTP client...).
//   npx node bench/profile-summary.ts <file.cpuprofile>... [--top=15] [--from=<ms>] [--to=<ms>]
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(import.meta.dirname, '..');

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Share {
  name: string;
  ms: number;
  percent: number;
}

export interface ProfileSummary {
  /** Length of the window summarised, wall time. */
  windowMs: number;
  /** CPU time of the profiled thread in the window: everything but (idle). */
  busyMs: number;
  /** Functions by self time (time on top of the stack). */
  functions: Share[];
  /** Packages, Node's own modules and this repository's files by self time. */
  modules: Share[];
  /** Time with at least one frame of the category on the stack; a sample may count in several. */
  categories: Share[];
}

const SPECIAL = new Set(['(garbage collector)', '(program)', '(idle)', '(root)']);

/** `fastify`, `@fastify/swagger`, `node:_tls_wrap`, `services/product-composite/src/app.ts`... */
export function moduleOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return SPECIAL.has(functionName) ? functionName : '(native code or eval)';
  if (url.startsWith('node:')) return url;
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const at = path.lastIndexOf('/node_modules/');
  if (at >= 0) {
    const [scope = '', name = ''] = path.slice(at + '/node_modules/'.length).split('/');
    return scope.startsWith('@') ? `${scope}/${name}` : scope;
  }
  // A package bundled by libs/vendor counts as that package.
  const bundled = /\/libs\/vendor\/dist\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
  if (bundled) return bundled[1]!;
  return path.startsWith(`${root}/`) ? relative(root, path) : path;
}

type Matcher = (module: string, functionName: string) => boolean;

/** What a sample was doing, judged by any frame on its stack; ordered as a reader would scan them. */
const CATEGORIES: Array<[string, Matcher]> = [
  [
    'TLS (node:_tls_wrap, node:tls)',
    (m) => m === 'node:_tls_wrap' || m === 'node:tls' || m === 'node:_tls_common' || m.startsWith('node:internal/tls'),
  ],
  ['edge proxy (edge/src)', (m) => m.startsWith('edge/src/')],
  ['JWT verification (jose, access-tokens.ts)', (m) => m === 'jose' || m.endsWith('auth/access-tokens.ts')],
  ['HTTP client to the core services (undici)', (m) => m === 'undici' || m.startsWith('node:internal/deps/undici')],
  [
    'logging (pino, sonic-boom)',
    (m) => m === 'pino' || m === 'sonic-boom' || m === 'thread-stream' || m.startsWith('pino-'),
  ],
  [
    'fastify (routing, hooks, replies)',
    (m) => m === 'fastify' || m === 'find-my-way' || m === 'avvio' || m.startsWith('@fastify/'),
  ],
  ['JSON serialisation (fast-json-stringify)', (m) => m === 'fast-json-stringify'],
  ['contract checks (typebox, ajv)', (m) => m === 'typebox' || m === 'ajv'],
  ['composite domain and resilience (services/product-composite)', (m) => m.startsWith('services/product-composite/')],
  [
    'core services (services/product, recommendation, review)',
    (m) => /^services\/(product|recommendation|review)\//.test(m),
  ],
  [
    'storage (node:sqlite, pg, mysql2, kysely)',
    (m) =>
      ['pg', 'pg-protocol', 'pg-pool', 'mysql2', 'kysely', 'node:sqlite'].includes(m) ||
      m.startsWith('libs/platform/src/storage'),
  ],
  ['messaging (amqplib, in-process bus)', (m) => m === 'amqplib' || m.startsWith('libs/platform/src/messaging')],
  ['node:http server and parser', (m) => m.startsWith('node:_http') || m === 'node:http'],
  ['garbage collection', (_m, f) => f === '(garbage collector)'],
];

export function summarise(
  profile: CpuProfile,
  options: { fromMs?: number; toMs?: number; top?: number } = {},
): ProfileSummary {
  const top = options.top ?? 15;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const modules = new Map<number, string>();
  for (const node of profile.nodes) modules.set(node.id, moduleOf(node.callFrame));

  // Categories per node, inherited from the ancestors, computed once per node rather than per sample.
  const categoryCache = new Map<number, Set<number>>();
  const categoriesOf = (id: number): Set<number> => {
    const cached = categoryCache.get(id);
    if (cached) return cached;
    const up = parent.get(id);
    const set = new Set(up === undefined ? [] : categoriesOf(up));
    const node = byId.get(id)!;
    CATEGORIES.forEach(([, matches], index) => {
      if (matches(modules.get(id)!, node.callFrame.functionName)) set.add(index);
    });
    categoryCache.set(id, set);
    return set;
  };

  const from = (options.fromMs ?? 0) * 1000;
  const to = (options.toMs ?? Number.POSITIVE_INFINITY) * 1000;
  const selfByFunction = new Map<string, number>();
  const selfByModule = new Map<string, number>();
  const byCategory = new Map<number, number>();
  let busy = 0;
  let elapsed = 0;
  let first = Number.NaN;
  let last = Number.NaN;
  for (let i = 0; i < profile.samples.length; i++) {
    elapsed += profile.timeDeltas[i] ?? 0;
    // A sample stands for the time until the next one.
    const duration = Math.max(0, profile.timeDeltas[i + 1] ?? 0);
    if (elapsed < from || elapsed > to) continue;
    if (Number.isNaN(first)) first = elapsed;
    last = elapsed + duration;
    const id = profile.samples[i]!;
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === '(idle)') continue;
    busy += duration;
    const module = modules.get(id)!;
    const { functionName, lineNumber } = node.callFrame;
    const key = `${functionName || '(anonymous)'}  ${module}${lineNumber >= 0 && node.callFrame.url ? `:${lineNumber + 1}` : ''}`;
    selfByFunction.set(key, (selfByFunction.get(key) ?? 0) + duration);
    selfByModule.set(module, (selfByModule.get(module) ?? 0) + duration);
    for (const category of categoriesOf(id)) byCategory.set(category, (byCategory.get(category) ?? 0) + duration);
  }

  const shares = (entries: Iterable<[string, number]>, limit: number): Share[] =>
    [...entries]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, us]) => ({ name, ms: us / 1000, percent: busy > 0 ? (100 * us) / busy : 0 }));

  return {
    windowMs: Number.isNaN(first) ? 0 : (last - first) / 1000,
    busyMs: busy / 1000,
    functions: shares(selfByFunction, top),
    modules: shares(selfByModule, top),
    categories: shares(
      [...byCategory].map(([index, us]) => [CATEGORIES[index]![0], us] as [string, number]),
      CATEGORIES.length,
    ),
  };
}

export function readProfile(file: string): CpuProfile {
  return JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
}

const table = (heading: string, rows: Share[]) =>
  [
    `| ${heading} | self ms | % of busy |`,
    '|---|---:|---:|',
    ...rows.map((r) => `| \`${r.name.replace(/\|/g, '\\|')}\` | ${r.ms.toFixed(0)} | ${r.percent.toFixed(1)} |`),
  ].join('\n');

export function formatSummary(title: string, summary: ProfileSummary): string {
  const utilisation = summary.windowMs > 0 ? (100 * summary.busyMs) / summary.windowMs : 0;
  return [
    `### ${title}`,
    '',
    `Busy ${summary.busyMs.toFixed(0)} ms of ${summary.windowMs.toFixed(0)} ms (${utilisation.toFixed(0)} %).`,
    '',
    '| on the stack (inclusive; a sample may count in several rows) | ms | % of busy |',
    '|---|---:|---:|',
    ...summary.categories.map((r) => `| ${r.name} | ${r.ms.toFixed(0)} | ${r.percent.toFixed(1)} |`),
    '',
    table('module (self time)', summary.modules),
    '',
    table('function (self time)', summary.functions),
    '',
  ].join('\n');
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '15' }, from: { type: 'string' }, to: { type: 'string' } },
  });
  if (positionals.length === 0) {
    process.stderr.write(
      'usage: node bench/profile-summary.ts <file.cpuprofile>... [--top=15] [--from=<ms>] [--to=<ms>]\n',
    );
    process.exit(2);
  }
  for (const file of positionals) {
    const summary = summarise(readProfile(file), {
      top: Number(values.top),
      ...(values.from === undefined ? {} : { fromMs: Number(values.from) }),
      ...(values.to === undefined ? {} : { toMs: Number(values.to) }),
    });
    process.stdout.write(`${formatSummary(file, summary)}\n`);
  }
}
