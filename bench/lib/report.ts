import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { round } from './stats.ts';

export const BARE = 'bare node:http server';

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  date: string;
}

export interface StartupFigure {
  name: string;
  ms: number;
  samples: number[];
  reportedMs?: number;
}
export interface MemoryFigure {
  name: string;
  idleMiB?: number;
  afterLoadMiB?: number;
}
export interface ThroughputFigure {
  id: string;
  name: string;
  rps: number;
  p50: number;
  p99: number;
  samples: { rps: number[]; p50: number[]; p99: number[] };
  failed: number;
  cpuMsPerRequest?: number;
  cpuMsPerRequestByProcess?: Record<string, number>;
}
export interface EventFigure {
  name: string;
  p50: number;
  p99: number;
  getMs: number;
  firstGetPercent: number;
  products: number;
}
/** RSS of one process under steady load over time, to show whether it levels off. */
export interface SoakFigure {
  name: string;
  scenario: string;
  connections: number;
  samples: Array<{ seconds: number; rssMiB: number; rps: number }>;
}
/** One scenario measured on a landscape started with tracing off, then on a landscape started with it on. */
export interface TracingFigure {
  mode: string;
  scenario: string;
  off: { rps: number; p50: number; p99: number };
  on: { rps: number; p50: number; p99: number };
}
export interface ProfileFigure {
  scenario: string;
  name: string;
  markdown: string;
  brief: string;
}

export interface Report {
  machine: Machine;
  settings: Record<string, unknown>;
  startup: StartupFigure[];
  memory: MemoryFigure[];
  throughput: ThroughputFigure[];
  events: EventFigure[];
  soak?: SoakFigure[];
  tracing?: TracingFigure[];
  profile?: ProfileFigure;
  notes: string[];
}

export interface Result {
  name: string;
  value: number;
  unit: string;
  /** The baseline's value, measured in the same run and unit. */
  baseline: number;
  baselineName: string;
  ratio: number;
  samples?: number[];
  failed?: number;
}

export function machine(): Machine {
  const info = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(info)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const memory = /^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1];
  return {
    cpuModel: model.trim(),
    cores: cpus().length,
    memoryGiB: memory ? round(Number(memory) / 1024 / 1024, 3) : 0,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString(),
  };
}

const ratio = (value: number, baseline: number) =>
  baseline > 0 && Number.isFinite(value) ? round(value / baseline, 3) : Number.NaN;

/** The flat list: every figure with the baseline it is read against. */
export function results(report: Report): Result[] {
  const out: Result[] = [];
  const add = (
    name: string,
    value: number,
    unit: string,
    baseline: number | undefined,
    baselineName: string,
    extra: Partial<Result> = {},
  ) => {
    if (baseline === undefined || !Number.isFinite(value)) return;
    out.push({
      name,
      value: round(value, 4),
      unit,
      baseline: round(baseline, 4),
      baselineName,
      ratio: ratio(value, baseline),
      ...extra,
    });
  };
  const bareStart = report.startup.find((s) => s.name === BARE);
  for (const s of report.startup)
    add(`start-up: ${s.name}`, s.ms, 'ms', bareStart?.ms, `start-up: ${BARE}`, {
      samples: s.samples.map((v) => round(v, 4)),
    });
  const bareMemory = report.memory.find((m) => m.name === BARE);
  for (const m of report.memory) {
    if (m.idleMiB !== undefined) add(`RSS idle: ${m.name}`, m.idleMiB, 'MiB', bareMemory?.idleMiB, `RSS idle: ${BARE}`);
    if (m.afterLoadMiB !== undefined)
      add(`RSS after load: ${m.name}`, m.afterLoadMiB, 'MiB', bareMemory?.afterLoadMiB, `RSS after load: ${BARE}`);
  }
  const bare = report.throughput.find((t) => t.id === 'bare');
  for (const t of report.throughput) {
    const failed = t.failed > 0 ? { failed: t.failed } : {};
    add(`throughput: ${t.name}`, t.rps, 'req/s', bare?.rps, `throughput: ${BARE}`, {
      samples: t.samples.rps.map((v) => round(v, 4)),
      ...failed,
    });
    add(`latency p50: ${t.name}`, t.p50, 'ms', bare?.p50, `latency p50: ${BARE}`, {
      samples: t.samples.p50.map((v) => round(v, 4)),
    });
    add(`latency p99: ${t.name}`, t.p99, 'ms', bare?.p99, `latency p99: ${BARE}`, {
      samples: t.samples.p99.map((v) => round(v, 4)),
    });
    if (t.cpuMsPerRequest !== undefined)
      add(
        `CPU per request: ${t.name}`,
        t.cpuMsPerRequest * 1000,
        'µs',
        bare?.cpuMsPerRequest === undefined ? undefined : bare.cpuMsPerRequest * 1000,
        `CPU per request: ${BARE}`,
      );
  }
  for (const t of report.tracing ?? []) {
    const off = `${t.mode}: ${t.scenario}, tracing off`;
    add(`throughput: ${t.mode}: ${t.scenario}, tracing on`, t.on.rps, 'req/s', t.off.rps, `throughput: ${off}`);
    add(`latency p50: ${t.mode}: ${t.scenario}, tracing on`, t.on.p50, 'ms', t.off.p50, `latency p50: ${off}`);
    add(`latency p99: ${t.mode}: ${t.scenario}, tracing on`, t.on.p99, 'ms', t.off.p99, `latency p99: ${off}`);
  }
  for (const e of report.events) {
    const baselineName = `one composite GET while polling (${e.name})`;
    add(`event latency p50: ${e.name}`, e.p50, 'ms', e.getMs, baselineName);
    add(`event latency p99: ${e.name}`, e.p99, 'ms', e.getMs, baselineName);
  }
  return out;
}

/** One figure the performance goals name, with its goal beside it. */
export interface GoalRow {
  figure: string;
  measured: string;
  goal: string;
  met: boolean | undefined;
}

const MB_IN_MIB = 1e6 / 2 ** 20;

/**
 * The figures the performance goals are stated in, each beside its goal: throughput as a ratio to the
 * bare server of the same run, p99 in ms, memory in MiB (with how far above the bare Node process).
 * A figure this run did not measure is shown as not measured.
 */
export function goals(report: Report): GoalRow[] {
  const rows: GoalRow[] = [];
  const bare = report.throughput.find((t) => t.id === 'bare');
  const at = (value: number | undefined, atLeast: boolean, limit: number) =>
    value === undefined || !Number.isFinite(value) ? undefined : atLeast ? value >= limit : value <= limit;
  const ratioRow = (id: string, figure: string, limit: number) => {
    const t = report.throughput.find((x) => x.id === id);
    const value = t && bare ? t.rps / bare.rps : undefined;
    const cpu =
      t?.cpuMsPerRequest !== undefined && bare?.cpuMsPerRequest !== undefined
        ? `; by CPU per request ${num(bare.cpuMsPerRequest / t.cpuMsPerRequest)}×`
        : '';
    // What bench/minimal.ts, the same architecture with nothing added per hop, reaches in the same run.
    const least = report.throughput.find((x) => x.id === `minimal/${id}`);
    const floor = least && bare ? `; the architecture at its least ${num(least.rps / bare.rps)}×` : '';
    rows.push({
      figure,
      measured:
        value === undefined
          ? 'not measured'
          : `${num(value)}× (${num(t!.rps)} req/s; bare ${num(bare!.rps)}${cpu}${floor})`,
      goal: `≥ ${limit}×`,
      met: at(value, true, limit),
    });
  };
  ratioRow('all-in-one/composite-edge', 'all-in-one: composite GET via the edge (TLS, JWT) × bare', 0.045);
  ratioRow('all-in-one/composite', 'all-in-one: composite GET direct (JWT) × bare', 0.065);
  const p99 = report.throughput.find((x) => x.id === 'all-in-one/composite-edge')?.p99;
  const leastP99 = report.throughput.find((x) => x.id === 'minimal/all-in-one/composite-edge')?.p99;
  rows.push({
    figure: `all-in-one: composite GET via the edge, p99 at ${report.settings['connections']} connections`,
    measured:
      p99 === undefined
        ? 'not measured'
        : `${num(p99)} ms${leastP99 === undefined ? '' : ` (the architecture at its least ${num(leastP99)} ms)`}`,
    goal: '≤ 15 ms',
    met: at(p99, false, 15),
  });
  ratioRow('per-service/composite-edge', 'per-service: composite GET via the edge (TLS, JWT) × bare', 0.035);

  const soak = report.soak?.find((x) => x.name === 'all-in-one landscape');
  const soakGoal = 250 * MB_IN_MIB;
  const last = soak?.samples.at(-1);
  rows.push({
    figure: `all-in-one RSS under steady load: before, ${
      soak?.samples
        .slice(1)
        .map((x) => `${x.seconds} s`)
        .join(', ') ?? 'after 30 s and 90 s'
    }`,
    measured: soak ? `${soak.samples.map((x) => `${num(x.rssMiB)}`).join(' → ')} MiB` : 'not measured',
    goal: `≤ 250 MB (${num(soakGoal)} MiB) at the end`,
    met: last && last.seconds > 0 ? last.rssMiB <= soakGoal : undefined,
  });

  const bareMemory = report.memory.find((m) => m.name === BARE);
  if (bareMemory) {
    rows.push({
      figure: 'the baseline: bare Node process (node:http hello server) RSS idle / after load',
      measured: `${num(bareMemory.idleMiB)} / ${num(bareMemory.afterLoadMiB)} MiB`,
      goal: '(baseline)',
      met: undefined,
    });
  }
  const above = (value: number | undefined, base: number | undefined) =>
    value === undefined || base === undefined ? '' : ` (+${num(value - base)})`;
  for (const m of report.memory.filter((x) => x.name.startsWith('per-service: ') && !x.name.includes('supervisor'))) {
    rows.push({
      figure: `${m.name} RSS idle (+ MiB above the bare process)`,
      measured: `${num(m.idleMiB)} MiB${above(m.idleMiB, bareMemory?.idleMiB)}`,
      goal: '≤ 100 MiB',
      met: at(m.idleMiB, false, 100),
    });
    rows.push({
      figure: `${m.name} RSS after load (+ MiB above the bare process)`,
      measured:
        m.afterLoadMiB === undefined
          ? 'not measured'
          : `${num(m.afterLoadMiB)} MiB${above(m.afterLoadMiB, bareMemory?.afterLoadMiB)}`,
      goal: '≤ 160 MiB',
      met: at(m.afterLoadMiB, false, 160),
    });
  }
  if (!report.memory.some((x) => x.name.startsWith('per-service: ')))
    rows.push({
      figure: "per-service: each service's RSS idle and after load",
      measured: 'not measured',
      goal: '≤ 100 / ≤ 160 MiB',
      met: undefined,
    });
  return rows;
}

export function goalsTable(report: Report): string[] {
  const mark = (met: boolean | undefined) => (met === undefined ? '' : met ? 'met' : '**not met**');
  return [
    '| figure | measured | goal | |',
    '|---|---|---|---|',
    ...goals(report).map((g) => `| ${g.figure} | ${g.measured} | ${g.goal} | ${mark(g.met)} |`),
  ];
}

export function toJson(report: Report): string {
  return `${JSON.stringify(
    {
      machine: report.machine,
      settings: report.settings,
      results: results(report),
      goals: goals(report),
      ...(report.profile ? { profile: { scenario: report.profile.scenario, name: report.profile.name } } : {}),
      notes: report.notes,
    },
    null,
    2,
  )}\n`;
}

const num = (value: number | undefined, digits = 3) =>
  value === undefined || !Number.isFinite(value) ? '–' : String(round(value, digits));
const times = (value: number | undefined, baseline: number | undefined) =>
  value === undefined || baseline === undefined || !(baseline > 0) ? '–' : `${num(value / baseline, 3)}×`;

export function toMarkdown(report: Report): string {
  const { machine: m, settings } = report;
  const lines: string[] = [];
  lines.push('# Benchmark: the landscape against a bare Node server', '');
  lines.push(`${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}, ${m.date}.`);
  lines.push(
    `Load: ${settings['connections']} connections, ${settings['warmupSeconds']} s warm-up, median of ${settings['runs']} runs of ${settings['durationSeconds']} s; start-up: median of ${settings['repeats']} starts after one unmeasured start. Ratios are to the bare server measured in the same run (×1 = as fast / as small as the bare server).`,
    '',
  );

  lines.push('## Goals', '', ...goalsTable(report), '');

  const bareStart = report.startup.find((s) => s.name === BARE)?.ms;
  if (report.startup.length > 0) {
    lines.push('## Start-up: spawn to readiness answering 200', '');
    lines.push('| process | median ms | × bare | samples ms |', '|---|---:|---:|---|');
    for (const s of report.startup) {
      const reported = s.reportedMs === undefined ? '' : ` (it reports "Ready in ${s.reportedMs} ms")`;
      lines.push(
        `| ${s.name}${reported} | ${num(s.ms)} | ${times(s.ms, bareStart)} | ${s.samples.map((v) => Math.round(v)).join(', ')} |`,
      );
    }
    lines.push('');
  }

  const bareMemory = report.memory.find((x) => x.name === BARE);
  if (report.memory.length > 0) {
    lines.push('## Memory: resident set size (VmRSS)', '');
    lines.push('| process | idle MiB | × bare | after load MiB | × bare |', '|---|---:|---:|---:|---:|');
    for (const x of report.memory) {
      lines.push(
        `| ${x.name} | ${num(x.idleMiB)} | ${times(x.idleMiB, bareMemory?.idleMiB)} | ${num(x.afterLoadMiB)} | ${times(x.afterLoadMiB, bareMemory?.afterLoadMiB)} |`,
      );
    }
    lines.push('');
  }

  if (report.soak && report.soak.length > 0) {
    lines.push('## Memory under steady load (soak)', '');
    lines.push(
      `| process | scenario | ${report.soak[0]!.samples.map((x) => `RSS at ${x.seconds} s (MiB)`).join(' | ')} |`,
      `|---|---|${report.soak[0]!.samples.map(() => '---:').join('|')}|`,
    );
    for (const x of report.soak)
      lines.push(
        `| ${x.name} | ${x.scenario}, ${x.connections} connections | ${x.samples.map((y) => num(y.rssMiB)).join(' | ')} |`,
      );
    lines.push('');
  }

  const bare = report.throughput.find((t) => t.id === 'bare');
  if (report.throughput.length > 0) {
    lines.push(`## Throughput and latency: ${settings['connections']} connections`, '');
    lines.push(
      '| scenario | req/s | × bare | p50 ms | × bare | p99 ms | × bare | CPU µs per request | bare ÷ this |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const t of report.throughput) {
      const failed = t.failed > 0 ? ` (**${t.failed} failed requests**)` : '';
      const cpu = t.cpuMsPerRequest === undefined ? '–' : num(t.cpuMsPerRequest * 1000);
      const cpuRatio = t.cpuMsPerRequest === undefined ? '–' : times(bare?.cpuMsPerRequest, t.cpuMsPerRequest);
      lines.push(
        `| ${t.name}${failed} | ${num(t.rps)} | ${times(t.rps, bare?.rps)} | ${num(t.p50)} | ${times(t.p50, bare?.p50)} | ${num(t.p99)} | ${times(t.p99, bare?.p99)} | ${cpu} | ${cpuRatio} |`,
      );
    }
    lines.push('');
  }

  // Which hop costs what: only scenarios that load more than one process have something to split.
  const split = report.throughput.filter((t) => Object.keys(t.cpuMsPerRequestByProcess ?? {}).length > 1);
  if (split.length > 0) {
    const names = [...new Set(split.flatMap((t) => Object.keys(t.cpuMsPerRequestByProcess!)))];
    lines.push('## CPU µs per request, process by process', '');
    lines.push(`| scenario | ${names.join(' | ')} |`, `|---|${names.map(() => '---:').join('|')}|`);
    for (const t of split) {
      const by = t.cpuMsPerRequestByProcess!;
      lines.push(`| ${t.name} | ${names.map((n) => (by[n] === undefined ? '' : num(by[n] * 1000))).join(' | ')} |`);
    }
    lines.push('');
  }

  if (report.tracing && report.tracing.length > 0) {
    lines.push('## The cost of tracing: the same scenario on a landscape started with tracing off, then on', '');
    lines.push(
      '| scenario | req/s off | req/s on | on ÷ off | p50 ms off | p50 ms on | on ÷ off | p99 ms off | p99 ms on |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const t of report.tracing) {
      lines.push(
        `| ${t.mode}: ${t.scenario} | ${num(t.off.rps)} | ${num(t.on.rps)} | ${times(t.on.rps, t.off.rps)} | ${num(t.off.p50)} | ${num(t.on.p50)} | ${times(t.on.p50, t.off.p50)} | ${num(t.off.p99)} | ${num(t.on.p99)} |`,
      );
    }
    lines.push('');
  }

  if (report.events.length > 0) {
    lines.push(
      '## Event latency: composite POST answered 200 → product, recommendation and review all in the composite GET',
      '',
    );
    lines.push(
      '| bus | products | p50 ms | p99 ms | one GET ms | p50 × one GET | complete at the first GET |',
      '|---|---:|---:|---:|---:|---:|---:|',
    );
    for (const e of report.events)
      lines.push(
        `| ${e.name} | ${e.products} | ${num(e.p50)} | ${num(e.p99)} | ${num(e.getMs)} | ${times(e.p50, e.getMs)} | ${Math.round(e.firstGetPercent)} % |`,
      );
    lines.push('');
  }

  if (report.notes.length > 0) lines.push('## Notes', '', ...report.notes.map((n) => `- ${n}`), '');
  if (report.profile) lines.push(`## CPU profile: ${report.profile.name}`, '', report.profile.markdown, '');
  return `${lines.join('\n')}\n`;
}

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Horizontal bars, one row per scenario: throughput on the left, p99 latency on the right. */
export function toSvg(report: Report): string {
  const rows = report.throughput;
  const labelWidth = 330;
  const panelWidth = 300;
  const valueWidth = 120;
  const rowHeight = 26;
  const top = 70;
  const width = labelWidth + 2 * (panelWidth + valueWidth) + 30;
  const height = top + rows.length * rowHeight + 40;
  const maxRps = Math.max(1, ...rows.map((r) => r.rps));
  const maxP99 = Math.max(0.001, ...rows.map((r) => r.p99));
  const bare = rows.find((r) => r.id === 'bare');
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(
    `<text x="10" y="22" font-size="15" font-weight="bold">${escapeXml(`Throughput and p99 latency, ${report.settings['connections']} connections (median of ${report.settings['runs']} runs)`)}</text>`,
  );
  out.push(
    `<text x="10" y="40" fill="#555">${escapeXml(`${report.machine.cpuModel}, ${report.machine.cores} cores, Node ${report.machine.node}, ${report.machine.date.slice(0, 10)}; grey = bare node:http server, the baseline`)}</text>`,
  );
  const leftX = labelWidth;
  const rightX = labelWidth + panelWidth + valueWidth;
  out.push(`<text x="${leftX}" y="${top - 10}" font-weight="bold">requests per second (higher is better)</text>`);
  out.push(`<text x="${rightX}" y="${top - 10}" font-weight="bold">p99 latency, ms (lower is better)</text>`);
  rows.forEach((row, index) => {
    const y = top + index * rowHeight;
    const isBaseline = row.id === 'bare';
    const rpsWidth = Math.max(1, (row.rps / maxRps) * panelWidth);
    const p99Width = Math.max(1, (row.p99 / maxP99) * panelWidth);
    const rpsText = `${round(row.rps, 3)}${bare && !isBaseline ? ` (${round(row.rps / bare.rps, 2)}×)` : ''}`;
    const p99Text = `${round(row.p99, 3)}${bare && !isBaseline ? ` (${round(row.p99 / bare.p99, 3)}×)` : ''}`;
    if (index % 2 === 0) out.push(`<rect x="0" y="${y}" width="${width}" height="${rowHeight}" fill="#f4f6f8"/>`);
    out.push(`<text x="${labelWidth - 10}" y="${y + 17}" text-anchor="end">${escapeXml(row.name)}</text>`);
    out.push(
      `<rect x="${leftX}" y="${y + 5}" width="${rpsWidth.toFixed(1)}" height="${rowHeight - 10}" fill="${isBaseline ? '#9aa0a6' : '#3367d6'}"/>`,
    );
    out.push(`<text x="${(leftX + rpsWidth + 5).toFixed(1)}" y="${y + 17}" fill="#333">${escapeXml(rpsText)}</text>`);
    out.push(
      `<rect x="${rightX}" y="${y + 5}" width="${p99Width.toFixed(1)}" height="${rowHeight - 10}" fill="${isBaseline ? '#9aa0a6' : '#e8710a'}"/>`,
    );
    out.push(`<text x="${(rightX + p99Width + 5).toFixed(1)}" y="${y + 17}" fill="#333">${escapeXml(p99Text)}</text>`);
  });
  out.push(`<line x1="${leftX}" y1="${top}" x2="${leftX}" y2="${top + rows.length * rowHeight}" stroke="#333"/>`);
  out.push(`<line x1="${rightX}" y1="${top}" x2="${rightX}" y2="${top + rows.length * rowHeight}" stroke="#333"/>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
