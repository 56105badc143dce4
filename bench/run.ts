// npm run bench: start-up, memory, throughput and latency, and event latency of the landscape, each
// against a bare node:http server measured in the same run; then a CPU profile of the scenario that
// is slowest relative to that baseline. Writes bench/results/latest.{json,md,svg}.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { deleteProducts, measureEventLatency } from './lib/events.ts';
import {
  aggregate,
  closeClient,
  compositeUrl,
  fetchToken,
  ALL_IN_ONE_PROCESS,
  landscapePorts,
  readinessUrl,
  recreateProduct,
  root,
  serviceNames,
  servicePorts,
  SUPERVISOR_PROCESS,
  spawnService,
  startLandscape,
  type Landscape,
  type Mode,
} from './lib/landscape.ts';
import { loadOnce, measureLoad, type LoadSettings } from './lib/load.ts';
import { errorMessage } from '@landscape/platform';
import { freePort } from '@landscape/platform/testing';
import {
  cpuMs,
  killAllNow,
  rssMiB,
  startNode,
  stopAll,
  waitForPorts,
  waitReady,
  type Started,
} from './lib/processes.ts';
import {
  BARE,
  machine,
  toJson,
  toMarkdown,
  toSvg,
  type MemoryFigure,
  type Report,
  type ThroughputFigure,
} from './lib/report.ts';
import { median, round } from './lib/stats.ts';
import { compileCacheDir, mallocArenaMax, nodeFlags } from '../scripts/landscape.ts';
import { formatSummary, readProfile, summarise } from './profile-summary.ts';

const PHASES = ['startup', 'memory', 'throughput', 'events', 'soak', 'tracing', 'profile'] as const;
type Phase = (typeof PHASES)[number];

const HELP = `npm run bench -- [options]
  --only=LIST        phases, comma-separated: ${PHASES.join(',')} (default: all)
  --mode=MODE        all-in-one, per-service or all (default: all)
  --quick            a smoke run: 1 start, 1 s warm-up, 1 run of 2 s, 50 products
  --connections=N    concurrent connections of the load (default 20)
  --warmup=S         warm-up seconds before the measured runs (default 2)
  --duration=S       seconds of each measured run (default 5)
  --runs=N           measured runs per scenario; figures are their median (default 3)
  --repeats=N        measured starts per process; the median is reported (default 3)
  --soak=S           seconds of the soak phase's steady load, RSS read at 0, every 30 s and at S (default 180)
  --products=N       products for the event latency, per mode (default 200, at most 500)
  --profile=ID       scenario to profile: auto (the slowest against the bare server), off, or one of
                     bare, bare-edge, <mode>/product, <mode>/composite, <mode>/composite-edge
  --log-level=LEVEL  LOGGING_LEVEL for the landscape (default: as configured, info)
  --keep-temp        keep the working directory (logs, .cpuprofile files)
  --results=DIR      where latest.{json,md,svg} go (default bench/results; another keeps a trial
                     run from replacing the committed results)
`;

const { values: flags } = parseArgs({
  options: {
    only: { type: 'string' },
    mode: { type: 'string', default: 'all' },
    quick: { type: 'boolean', default: false },
    connections: { type: 'string' },
    warmup: { type: 'string' },
    duration: { type: 'string' },
    runs: { type: 'string' },
    repeats: { type: 'string' },
    soak: { type: 'string' },
    products: { type: 'string' },
    profile: { type: 'string', default: 'auto' },
    'log-level': { type: 'string' },
    'keep-temp': { type: 'boolean', default: false },
    results: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n\n${HELP}`);
  process.exit(2);
}

const integer = (name: string, given: string | undefined, fallback: number, min: number, max: number): number => {
  if (given === undefined) return fallback;
  const value = Number(given);
  if (!Number.isInteger(value) || value < min || value > max)
    fail(`--${name} must be an integer from ${min} to ${max}, not ${given}`);
  return value;
};

const phases = new Set<Phase>();
for (const name of (flags.only ?? PHASES.join(','))
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean)) {
  if (!PHASES.includes(name as Phase)) fail(`unknown phase ${name}`);
  phases.add(name as Phase);
}
const modes: Mode[] =
  flags.mode === 'all'
    ? ['all-in-one', 'per-service']
    : flags.mode === 'all-in-one' || flags.mode === 'per-service'
      ? [flags.mode]
      : fail(`unknown mode ${flags.mode}`);
const quick = flags.quick;
const load: LoadSettings = {
  connections: integer('connections', flags.connections, 20, 1, 1000),
  warmupSeconds: integer('warmup', flags.warmup, quick ? 1 : 2, 0, 60),
  durationSeconds: integer('duration', flags.duration, quick ? 2 : 5, 1, 120),
  runs: integer('runs', flags.runs, quick ? 1 : 3, 1, 20),
};
const repeats = integer('repeats', flags.repeats, quick ? 1 : 3, 1, 20);
const soakSeconds = integer('soak', flags.soak, quick ? 10 : 180, 2, 3600);
const products = integer('products', flags.products, quick ? 50 : 200, 1, 500);
const profileIds = [
  'bare',
  'bare-edge',
  ...['all-in-one', 'per-service'].flatMap((m) => ['product', 'composite', 'composite-edge'].map((s) => `${m}/${s}`)),
];
const profileChoice = flags.profile;
if (!['auto', 'off', ...profileIds].includes(profileChoice)) fail(`unknown profile scenario ${profileChoice}`);

const results = flags.results ? resolve(flags.results) : join(root, 'bench/results');
const display = (path: string) =>
  relative(process.cwd(), path).startsWith('..') ? path : relative(process.cwd(), path);
const say = (line: string) => process.stdout.write(`${line}\n`);
const work = join(tmpdir(), `landscape-bench-${process.pid}-${Date.now()}`);
const logDir = join(work, 'logs');
mkdirSync(logDir, { recursive: true });

// The landscape runs as configured; only what the benchmark must not inherit is removed.
const childEnv: NodeJS.ProcessEnv = { ...process.env };
delete childEnv['NODE_OPTIONS'];
// Every process, the bare server's too, runs with the compile cache and malloc arenas `npm start` uses.
childEnv['NODE_COMPILE_CACHE'] ??= join(root, compileCacheDir);
childEnv['MALLOC_ARENA_MAX'] ??= mallocArenaMax;
if (flags['log-level']) childEnv['LOGGING_LEVEL'] = flags['log-level'];
// Databases of the benchmark's own, so a run never writes into a developer's product_db and friends.
for (const name of ['product', 'recommendation', 'review'])
  childEnv[`${name.toUpperCase()}__DATABASE_DATABASE`] ??= `landscape_${name}_bench`;

// Distinct productIds per run and mode, inside the contract's 32-bit range.
const runBase = 1_000_000_000 + (Math.floor(Date.now() / 1000) % 1_000_000) * 1000;
const tag = `run-${Date.now().toString(36)}`;

const report: Report = {
  machine: machine(),
  settings: { ...load, repeats, products, modes, phases: [...phases], logLevel: flags['log-level'] ?? 'as configured' },
  startup: [],
  memory: [],
  throughput: [],
  events: [],
  soak: [],
  tracing: [],
  notes: [],
};

process.once('SIGINT', () => {
  say('\ninterrupted: stopping everything the benchmark started');
  void stopAll().then(() => process.exit(130));
});
process.on('exit', killAllNow);

const want = (phase: Phase) => phases.has(phase);
const fmt = (value: number) => String(round(value, 3));

function bareServer(env: NodeJS.ProcessEnv, port: number): Started {
  // The same flags as the services, so the baseline pays for the same Node start.
  return startNode(
    'bare-server',
    [...nodeFlags, `--env-file-if-exists=${join(root, 'dev.env')}`, join(root, 'bench/bare-server.ts')],
    { cwd: work, env: { ...env, PORT: String(port) }, logDir },
  );
}

async function bareEdge(env: NodeJS.ProcessEnv, backendPort: number): Promise<{ process: Started; url: string }> {
  const httpsPort = await freePort();
  let httpPort = await freePort();
  while (httpPort === httpsPort) httpPort = await freePort();
  const started = startNode('bare-edge', [...nodeFlags, join(root, 'bench/bare-edge.ts')], {
    cwd: work,
    env: {
      ...env,
      BENCH_EDGE_DIR: join(work, 'edge'),
      BENCH_HTTPS_PORT: String(httpsPort),
      BENCH_HTTP_PORT: String(httpPort),
      BENCH_BACKEND: `http://127.0.0.1:${backendPort}`,
    },
    logDir,
  });
  const url = `https://127.0.0.1:${httpsPort}/`;
  await waitReady(started, [url], { intervalMs: 20 });
  return { process: started, url };
}

// ---- start-up -------------------------------------------------------------------------------

async function startupPhase(): Promise<void> {
  say('\n== Start-up: spawn to readiness (one unmeasured start each, then the measured ones, in rounds)');
  const aloneCwd = join(work, 'services-alone');
  const allInOneCwd = join(work, 'startup-all-in-one');
  mkdirSync(aloneCwd, { recursive: true });
  mkdirSync(allInOneCwd, { recursive: true });
  const samples = new Map<string, number[]>();
  const reported: number[] = [];
  const record = (name: string, ms: number, round: number) => {
    if (round === 0) return;
    samples.set(name, [...(samples.get(name) ?? []), ms]);
  };
  const withServices = modes.includes('per-service');
  for (let round = 0; round <= repeats; round++) {
    say(
      round === 0
        ? '  unmeasured round (first start: keys, certificates, databases, disk cache)'
        : `  round ${round} of ${repeats}`,
    );
    const port = await freePort();
    const bare = bareServer(childEnv, port);
    try {
      record(BARE, await waitReady(bare, [`http://127.0.0.1:${port}/`]), round);
    } finally {
      await bare.stop('SIGTERM');
    }
    if (withServices) {
      for (const name of serviceNames) {
        await waitForPorts(landscapePorts, 120000, say);
        const service = spawnService(name, { cwd: aloneCwd, env: childEnv, logDir });
        try {
          record(
            `${name} (alone, on the real servers)`,
            await waitReady(service, [readinessUrl(servicePorts[name])]),
            round,
          );
        } finally {
          await service.stop('SIGTERM');
        }
      }
    }
    if (modes.includes('all-in-one')) {
      const landscape = await startLandscape('all-in-one', { cwd: allInOneCwd, env: childEnv, logDir, log: say });
      try {
        record('all-in-one landscape (npm start: every service and the edge)', landscape.readyMs, round);
        if (round > 0 && landscape.reportedReadyMs !== undefined) reported.push(landscape.reportedReadyMs);
      } finally {
        await landscape.stop();
      }
    }
  }
  for (const [name, values] of samples) {
    const figure = {
      name,
      ms: median(values),
      samples: values,
      ...(name.startsWith('all-in-one') && reported.length > 0 ? { reportedMs: Math.round(median(reported)) } : {}),
    };
    report.startup.push(figure);
    say(`  ${name}: ${fmt(figure.ms)} ms (${values.map((v) => Math.round(v)).join(', ')})`);
  }
}

// ---- load -----------------------------------------------------------------------------------

/** The measured processes by name: their CPU time per request is reported beside the throughput, and by process. */
async function loadScenario(
  id: string,
  name: string,
  url: string,
  headers: Record<string, string>,
  processes: Map<string, number>,
): Promise<void> {
  const cpuByProcess = () => new Map([...processes].map(([name, pid]) => [name, cpuMs(pid)]));
  const figures = await measureLoad(url, headers, load, cpuByProcess);
  const entry: ThroughputFigure = {
    id,
    name,
    rps: figures.rps,
    p50: figures.p50,
    p99: figures.p99,
    failed: figures.failed,
    ...(figures.cpuMsPerRequest === undefined ? {} : { cpuMsPerRequest: figures.cpuMsPerRequest }),
    ...(figures.cpuMsPerRequestByProcess === undefined
      ? {}
      : { cpuMsPerRequestByProcess: figures.cpuMsPerRequestByProcess }),
    samples: {
      rps: figures.runs.map((r) => r.rps),
      p50: figures.runs.map((r) => r.p50),
      p99: figures.runs.map((r) => r.p99),
    },
  };
  report.throughput.push(entry);
  say(
    `  ${name}: ${fmt(entry.rps)} req/s, p50 ${fmt(entry.p50)} ms, p99 ${fmt(entry.p99)} ms${entry.cpuMsPerRequest === undefined ? '' : `, ${fmt(entry.cpuMsPerRequest * 1000)} µs CPU per request`}${entry.failed ? `, ${entry.failed} FAILED requests` : ''}`,
  );
  if (entry.failed > 0)
    report.notes.push(
      `${name}: ${entry.failed} requests failed (non-2xx, errors or timeouts); its figures are not comparable.`,
    );
}

function memory(name: string, pid: number, when: 'idle' | 'after'): void {
  let entry = report.memory.find((m) => m.name === name);
  if (!entry) {
    entry = { name } as MemoryFigure;
    report.memory.push(entry);
  }
  const value = rssMiB(pid);
  if (when === 'idle') entry.idleMiB = value;
  else entry.afterLoadMiB = value;
}

async function baselinePhase(): Promise<void> {
  say('\n== Baseline: the bare node:http server, alone and behind the edge');
  const port = await freePort();
  const bare = bareServer(childEnv, port);
  let edge: { process: Started; url: string } | undefined;
  try {
    await waitReady(bare, [`http://127.0.0.1:${port}/`]);
    edge = await bareEdge(childEnv, port);
    await sleep(1000);
    memory(BARE, bare.pid, 'idle');
    memory('edge alone, in front of the bare server', edge.process.pid, 'idle');
    if (want('throughput')) {
      await loadScenario('bare', BARE, `http://127.0.0.1:${port}/`, {}, new Map([[BARE, bare.pid]]));
      const both = new Map([
        [BARE, bare.pid],
        ['edge', edge.process.pid],
      ]);
      await loadScenario('bare-edge', 'bare server via the edge (TLS)', edge.url, {}, both);
      memory(BARE, bare.pid, 'after');
      memory('edge alone, in front of the bare server', edge.process.pid, 'after');
    }
  } finally {
    await edge?.process.stop('SIGTERM');
    await bare.stop('SIGTERM');
  }
}

const memoryName = (mode: Mode, process: string) => `${mode}: ${process}`;

async function prepare(_landscape: Landscape): Promise<{ reader: string; writer: string }> {
  const reader = await fetchToken('reader');
  const writer = await fetchToken('writer');
  await recreateProduct(reader, writer, aggregate(1, tag, 3));
  return { reader, writer };
}

const scenarioUrls = (
  mode: Mode,
  reader: string,
): Array<{ id: string; name: string; url: string; headers: Record<string, string> }> => [
  {
    id: `${mode}/product`,
    name: `${mode}: product GET /product/1 direct`,
    url: `http://127.0.0.1:${servicePorts.product}/product/1`,
    headers: {},
  },
  {
    id: `${mode}/composite`,
    name: `${mode}: composite GET direct (JWT)`,
    url: `${compositeUrl}/product-composite/1`,
    headers: { authorization: `Bearer ${reader}` },
  },
  {
    id: `${mode}/composite-edge`,
    name: `${mode}: composite GET via the edge (TLS, JWT)`,
    url: 'https://127.0.0.1:8443/product-composite/1',
    headers: { authorization: `Bearer ${reader}` },
  },
];

async function modePhase(mode: Mode): Promise<void> {
  say(
    `\n== ${mode === 'all-in-one' ? 'All-in-one (SQLite, in-process bus)' : 'One process per service (PostgreSQL, MariaDB, RabbitMQ)'}`,
  );
  const cwd = join(work, mode);
  mkdirSync(cwd, { recursive: true });
  const landscape = await startLandscape(mode, { cwd, env: childEnv, logDir, log: say });
  try {
    await sleep(1000);
    for (const [name, pid] of landscape.processes()) memory(memoryName(mode, name), pid, 'idle');
    const { reader, writer } = await prepare(landscape);
    if (want('throughput')) {
      for (const s of scenarioUrls(mode, reader))
        await loadScenario(s.id, s.name, s.url, s.headers, landscape.processes());
      for (const [name, pid] of landscape.processes()) memory(memoryName(mode, name), pid, 'after');
    }
    if (want('events')) {
      const firstId = runBase + (mode === 'all-in-one' ? 0 : 500);
      const name = mode === 'all-in-one' ? 'all-in-one, in-process bus' : 'per-service, RabbitMQ';
      say(`  event latency over ${products} products (${firstId}…${firstId + products - 1})`);
      const figures = await measureEventLatency(reader, writer, { firstId, count: products, tag });
      report.events.push({
        name,
        p50: figures.p50,
        p99: figures.p99,
        getMs: figures.getMs,
        firstGetPercent: figures.firstGetPercent,
        products: figures.products,
      });
      say(
        `  ${name}: p50 ${fmt(figures.p50)} ms, p99 ${fmt(figures.p99)} ms (one GET ${fmt(figures.getMs)} ms; ${Math.round(figures.firstGetPercent)} % complete at the first GET)`,
      );
      // The per-service landscape writes to this machine's real databases: leave them as they were.
      if (mode === 'per-service') await deleteProducts(writer, firstId, products);
    }
  } finally {
    const code = await landscape.stop();
    if (code !== 0)
      report.notes.push(`the ${mode} landscape exited with ${code} when stopped (log: ${landscape.process.logFile})`);
  }
}

// ---- the architecture at its least -----------------------------------------------------------

// bench/minimal.ts's roles in its port order, each with the landscape process it stands for.
const minimalNames: Record<string, string> = {
  edge: SUPERVISOR_PROCESS,
  composite: 'product-composite',
  product: 'product',
  recommendation: 'recommendation',
  review: 'review',
};
const MINIMAL_ROLES = Object.keys(minimalNames);

/**
 * bench/minimal.ts in the mode's shape (one process, or one per part), loaded like the landscape's
 * composite: what this architecture costs on this machine with nothing the landscape adds per hop.
 */
async function minimalPhase(mode: Mode): Promise<void> {
  say(`\n== The same architecture at its least (bench/minimal.ts), ${mode}`);
  const ports: number[] = [];
  while (ports.length < MINIMAL_ROLES.length) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  const url = (role: string) =>
    `${role === 'edge' ? 'https' : 'http'}://127.0.0.1:${ports[MINIMAL_ROLES.indexOf(role)]}/product-composite/1`;
  const parts = mode === 'all-in-one' ? [MINIMAL_ROLES] : MINIMAL_ROLES.map((role) => [role]);
  const started = parts.map((roles) =>
    startNode(`minimal-${roles.length > 1 ? 'all-in-one' : roles[0]}`, [...nodeFlags, join(root, 'bench/minimal.ts')], {
      cwd: work,
      env: {
        ...childEnv,
        MINIMAL_ROLES: roles.join(','),
        MINIMAL_PORTS: ports.join(','),
        // Per service, the core parts read from this machine's database servers, as the services do.
        MINIMAL_STORE: mode === 'all-in-one' ? 'sqlite' : 'servers',
      },
      logDir,
    }),
  );
  try {
    await Promise.all(started.map((process, i) => waitReady(process, parts[i]!.map(url))));
    // Named as the landscape's processes are, so that the two breakdowns line up.
    const pids = new Map(
      started.map((process, i) => [
        mode === 'all-in-one' ? ALL_IN_ONE_PROCESS : minimalNames[parts[i]![0]!]!,
        process.pid,
      ]),
    );
    await loadScenario(
      `minimal/${mode}/composite`,
      `minimal ${mode}: composite GET direct`,
      url('composite'),
      {},
      pids,
    );
    await loadScenario(
      `minimal/${mode}/composite-edge`,
      `minimal ${mode}: composite GET via the edge (TLS)`,
      url('edge'),
      {},
      pids,
    );
  } finally {
    for (const process of started) await process.stop('SIGTERM');
  }
}

// ---- profile --------------------------------------------------------------------------------

function slowestScenario(): string {
  const bare = report.throughput.find((t) => t.id === 'bare');
  const candidates = report.throughput.filter((t) => t.id !== 'bare' && t.failed === 0);
  if (!bare || candidates.length === 0) return `${modes.at(-1)}/composite-edge`;
  return candidates.reduce((worst, t) => (t.rps / bare.rps < worst.rps / bare.rps ? t : worst)).id;
}

async function profilePhase(): Promise<void> {
  if (profileChoice === 'off') return;
  const id = profileChoice === 'auto' ? slowestScenario() : profileChoice;
  const dir = join(work, 'cpu-profiles');
  mkdirSync(dir, { recursive: true });
  const env = { ...childEnv, NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir}` };
  const pids = new Map<number, string>();
  // V8 stamps profiles with the monotonic clock process.hrtime reads, so the load's own start and end
  // select its samples in every process's profile, leaving out start-up and shutdown.
  const nowUs = () => Number(process.hrtime.bigint() / 1000n);
  let window = { fromUs: 0, toUs: 0 };
  let name = id;
  let figures = '';

  const profiledLoad = async (url: string, headers: Record<string, string>, processes: Map<string, number>) => {
    if (load.warmupSeconds > 0) await loadOnce(url, headers, load.connections, load.warmupSeconds);
    for (const [processName, pid] of processes) pids.set(pid, processName);
    const fromUs = nowUs();
    const run = await loadOnce(url, headers, load.connections, load.durationSeconds);
    window = { fromUs, toUs: nowUs() };
    figures = `${fmt(run.rps)} req/s, p50 ${fmt(run.p50)} ms, p99 ${fmt(run.p99)} ms under the profiler`;
  };

  say(
    `\n== CPU profile of ${id} (the scenario ${profileChoice === 'auto' ? 'slowest relative to the bare server' : 'asked for'})`,
  );
  if (id === 'bare' || id === 'bare-edge') {
    const port = await freePort();
    const bare = bareServer(env, port);
    let edge: { process: Started; url: string } | undefined;
    try {
      await waitReady(bare, [`http://127.0.0.1:${port}/`]);
      const processes = new Map([[BARE, bare.pid]]);
      if (id === 'bare-edge') {
        edge = await bareEdge(env, port);
        processes.set('edge', edge.process.pid);
      }
      name = id === 'bare' ? BARE : 'bare server via the edge (TLS)';
      await profiledLoad(edge?.url ?? `http://127.0.0.1:${port}/`, {}, processes);
    } finally {
      await edge?.process.stop('SIGTERM');
      await bare.stop('SIGTERM');
    }
  } else {
    const mode = id.split('/')[0] as Mode;
    const cwd = join(work, mode);
    mkdirSync(cwd, { recursive: true });
    const landscape = await startLandscape(mode, { cwd, env, logDir, log: say });
    try {
      const { reader } = await prepare(landscape);
      const target = scenarioUrls(mode, reader).find((s) => s.id === id);
      if (!target) throw new Error(`unknown profile scenario ${id}`);
      name = target.name;
      await profiledLoad(target.url, target.headers, landscape.processes());
    } finally {
      await landscape.stop();
    }
  }
  say(`  ${figures}`);

  // V8 names each file CPU.<date>.<time>.<pid>.<thread>.<sequence>.cpuprofile.
  const sections: Array<{ name: string; busy: number; windowMs: number; text: string }> = [];
  for (const file of existsSync(dir) ? readdirSync(dir) : []) {
    const [pid, thread] = file.split('.').slice(3, 5).map(Number) as [number, number];
    const owner = pids.get(pid);
    if (!owner) continue;
    // The all-in-one process writes one profile per thread: its main thread and the second one.
    const processName = `${owner}, ${thread === 0 ? 'main thread' : `worker thread ${thread}`}`;
    const profile = readProfile(join(dir, file));
    const summary = summarise(profile, {
      fromMs: (window.fromUs - profile.startTime) / 1000,
      toMs: (window.toUs - profile.startTime) / 1000,
      top: 12,
    });
    sections.push({
      name: processName,
      busy: summary.busyMs,
      windowMs: summary.windowMs,
      text: formatSummary(`${processName} (pid ${pid})`, summary),
    });
  }
  if (sections.length === 0) {
    report.notes.push(`no CPU profile was written for ${id} (profiles in ${dir})`);
    return;
  }
  sections.sort((a, b) => b.busy - a.busy);
  const intro = `${load.connections} connections for ${load.durationSeconds} s after a ${load.warmupSeconds} s warm-up, every process started with \`--cpu-prof\`: ${figures}. Only the samples taken during the measured load are counted. Threads by CPU time used:`;
  const busyTable = [
    '| process, thread | CPU ms during the load | % of one core |',
    '|---|---:|---:|',
    ...sections.map(
      (s) =>
        `| ${s.name} | ${s.busy.toFixed(0)} | ${s.windowMs > 0 ? ((100 * s.busy) / s.windowMs).toFixed(0) : '–'} |`,
    ),
  ];
  report.profile = {
    scenario: id,
    name,
    markdown: [intro, '', ...busyTable, '', ...sections.map((s) => s.text)].join('\n'),
    brief: [
      intro,
      '',
      ...busyTable,
      '',
      sections[0]!.text,
      `(every process: ${display(join(results, 'latest.md'))})`,
    ].join('\n'),
  };
}

// ---- soak -----------------------------------------------------------------------------------

/** Steady composite load through the edge on the all-in-one landscape; RSS before, every 30 s and at the end. */
async function soakPhase(): Promise<void> {
  say(`\n== Soak: all-in-one RSS under ${soakSeconds} s of steady composite load through the edge`);
  const cwd = join(work, 'soak');
  mkdirSync(cwd, { recursive: true });
  const landscape = await startLandscape('all-in-one', { cwd, env: childEnv, logDir, log: say });
  try {
    await sleep(1000);
    const { reader } = await prepare(landscape);
    const [, pid] = [...landscape.processes()][0]!;
    const url = 'https://127.0.0.1:8443/product-composite/1';
    const headers = { authorization: `Bearer ${reader}` };
    const samples = [{ seconds: 0, rssMiB: rssMiB(pid), rps: 0 }];
    say(`  before load: ${fmt(samples[0]!.rssMiB)} MiB`);
    let elapsed = 0;
    // A reading every 30 s, so a longer soak shows whether the resident set levels off or keeps growing.
    const marks = Array.from({ length: Math.ceil(soakSeconds / 30) }, (_, i) => Math.min((i + 1) * 30, soakSeconds));
    for (const until of marks) {
      if (until <= elapsed) continue;
      const run = await loadOnce(url, headers, load.connections, until - elapsed);
      elapsed = until;
      samples.push({ seconds: elapsed, rssMiB: rssMiB(pid), rps: run.rps });
      say(
        `  after ${elapsed} s: ${fmt(samples.at(-1)!.rssMiB)} MiB (${fmt(run.rps)} req/s${run.failed ? `, ${run.failed} FAILED` : ''})`,
      );
    }
    report.soak!.push({
      name: 'all-in-one landscape',
      scenario: 'composite GET via the edge (TLS, JWT)',
      connections: load.connections,
      samples,
    });
  } finally {
    await landscape.stop();
  }
}

// ---- tracing ----------------------------------------------------------------------------------

/**
 * The composite scenarios on a landscape started with tracing off, then on one started with it on, in
 * `--repeats` rounds of off-then-on, so a machine that gets busier during the phase weighs on both.
 * Each figure is the median over the rounds.
 */
async function tracingPhase(mode: Mode): Promise<void> {
  say(
    `\n== Tracing off and on, ${mode}: the composite GET, direct and via the edge, ${repeats} round(s) of off then on`,
  );
  type Samples = { rps: number[]; p50: number[]; p99: number[] };
  const measured = new Map<string, { off: Samples; on: Samples }>();
  for (let round = 1; round <= repeats; round++) {
    for (const setting of ['off', 'on'] as const) {
      const cwd = join(work, `tracing-${mode}-${setting}-${round}`);
      mkdirSync(cwd, { recursive: true });
      const landscape = await startLandscape(mode, {
        cwd,
        env: { ...childEnv, TRACING_ENABLED: setting === 'on' ? 'true' : 'false' },
        logDir,
        log: say,
      });
      try {
        await sleep(1000);
        const { reader } = await prepare(landscape);
        for (const s of scenarioUrls(mode, reader).filter((x) => x.id !== `${mode}/product`)) {
          const figures = await measureLoad(s.url, s.headers, load);
          const scenario = s.name.slice(`${mode}: `.length);
          const entry = measured.get(scenario) ?? {
            off: { rps: [], p50: [], p99: [] },
            on: { rps: [], p50: [], p99: [] },
          };
          entry[setting].rps.push(figures.rps);
          entry[setting].p50.push(figures.p50);
          entry[setting].p99.push(figures.p99);
          measured.set(scenario, entry);
          say(
            `  round ${round}, tracing ${setting}, ${scenario}: ${fmt(figures.rps)} req/s, p50 ${fmt(figures.p50)} ms, p99 ${fmt(figures.p99)} ms${figures.failed ? `, ${figures.failed} FAILED` : ''}`,
          );
          if (figures.failed > 0)
            report.notes.push(
              `tracing ${setting}, ${s.name}: ${figures.failed} requests failed; its figures are not comparable.`,
            );
        }
      } finally {
        await landscape.stop();
      }
    }
  }
  const medians = (x: Samples) => ({ rps: median(x.rps), p50: median(x.p50), p99: median(x.p99) });
  for (const [scenario, samples] of measured) {
    const off = medians(samples.off);
    const on = medians(samples.on);
    report.tracing!.push({ mode, scenario, off, on });
    say(
      `  ${mode}: ${scenario}: tracing on ÷ off = ${fmt(on.rps / off.rps)}× throughput, ${fmt(on.p50 / off.p50)}× p50`,
    );
  }
}

// ---- main -----------------------------------------------------------------------------------

const began = performance.now();
let failed = false;
try {
  if (want('startup')) await startupPhase();
  if (want('throughput') || want('memory')) await baselinePhase();
  if (want('throughput') || want('memory') || want('events')) for (const mode of modes) await modePhase(mode);
  if (want('throughput')) for (const mode of modes) await minimalPhase(mode);
  if (want('soak') && modes.includes('all-in-one')) await soakPhase();
  if (want('tracing')) for (const mode of modes) await tracingPhase(mode);
  if (want('profile')) await profilePhase();
} catch (error) {
  failed = true;
  process.stderr.write(`\nbench failed: ${errorMessage(error)}\nlogs kept in ${logDir}\n`);
} finally {
  await stopAll();
  await closeClient();
}
if (failed) process.exit(1);

const seconds = Math.round((performance.now() - began) / 1000);
report.settings['totalSeconds'] = seconds;
report.notes.push(
  "The load generator (autocannon) runs on the same 2 cores as the processes it loads, so every figure includes that contention; the bare server's throughput is partly the load generator's limit.",
  `Single-service start-ups connect to this machine's PostgreSQL, MariaDB and RabbitMQ, as \`npm run start:services\` does; the all-in-one start-up includes the edge.`,
  "Event latency is measured one product at a time from the POST's 200 to the answer of the first composite GET showing every part, so it includes one GET (its median is given).",
  'The composite caches verified access tokens and the load reuses one token, so JWT verification costs one RS256 check per run, not per request.',
  'The minimal rows are bench/minimal.ts: the same hops (a TLS edge and the composite forwarding through undici, three core servers answering from prepared statements: node:sqlite in the all-in-one shape, PostgreSQL and MariaDB per service) on bare node:http, in one process or one per part, without framework, validation, JWT, logging, metrics or tracing. They show what the architecture itself allows on this machine.',
  "The bare server is a .ts file run like the services, with the same compile cache: after the first start no process strips types again, so its memory and start-up include Node's TypeScript support only as far as the services' do.",
);
mkdirSync(results, { recursive: true });
const markdown = toMarkdown(report);
writeFileSync(join(results, 'latest.json'), toJson(report));
writeFileSync(join(results, 'latest.md'), markdown);
if (report.throughput.length > 0) writeFileSync(join(results, 'latest.svg'), toSvg(report));
if (flags['keep-temp']) say(`\nworking directory kept: ${work}`);
else rmSync(work, { recursive: true, force: true });

// The terminal gets the tables and the busiest process's profile; the file has every process.
say(
  `\n${report.profile ? toMarkdown({ ...report, profile: { ...report.profile, markdown: report.profile.brief } }) : markdown}`,
);
say(
  `Done in ${seconds} s. Results: ${display(join(results, 'latest.json'))}, latest.md${report.throughput.length > 0 ? ', latest.svg' : ''}.`,
);
