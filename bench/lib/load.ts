import autocannon from 'autocannon';
import { median, percentileSorted } from './stats.ts';

export interface LoadSettings {
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
  runs: number;
}

export interface RunFigures {
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  failed: number;
}

export interface LoadFigures {
  rps: number;
  p50: number;
  p99: number;
  runs: RunFigures[];
  /** Non-2xx answers, errors and timeouts over every measured run: a benchmark of failures is no benchmark. */
  failed: number;
  /**
   * CPU milliseconds (user + system) the measured processes spent per answered request over the measured
   * runs. Unlike req/s it hardly depends on what else the machine runs at the time.
   */
  cpuMsPerRequest?: number;
  /** The same, process by process (by the names the caller gave), to show which hop costs what. */
  cpuMsPerRequestByProcess?: Record<string, number>;
}

/**
 * One fixed-concurrency run. Latencies are collected from autocannon's per-response events rather
 * than its histogram, which rounds to whole milliseconds: a bare server answers well under one.
 */
export function loadOnce(
  url: string,
  headers: Record<string, string>,
  connections: number,
  durationSeconds: number,
): Promise<RunFigures> {
  return new Promise((done, fail) => {
    const latencies: number[] = [];
    let failed = 0;
    const instance = autocannon(
      { url, headers, connections, duration: durationSeconds, timeout: 10 },
      (error, result) => {
        if (error) return fail(error);
        const sorted = Float64Array.from(latencies).sort();
        done({
          rps: latencies.length / result.duration,
          p50: percentileSorted(sorted, 50),
          p99: percentileSorted(sorted, 99),
          ok: latencies.length,
          failed: failed + result.errors + result.timeouts,
        });
      },
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
      else failed += 1;
    });
  });
}

/** A warm-up that is thrown away, then the measured runs; the figures are the medians of the runs. */
export async function measureLoad(
  url: string,
  headers: Record<string, string>,
  settings: LoadSettings,
  cpuMs?: () => Map<string, number>,
): Promise<LoadFigures> {
  if (settings.warmupSeconds > 0) await loadOnce(url, headers, settings.connections, settings.warmupSeconds);
  const runs: RunFigures[] = [];
  const cpuBefore = cpuMs?.();
  for (let i = 0; i < settings.runs; i++)
    runs.push(await loadOnce(url, headers, settings.connections, settings.durationSeconds));
  const answered = runs.reduce((sum, r) => sum + r.ok, 0);
  const cpu = cpuMs && cpuBefore !== undefined && answered > 0 ? cpuPerRequest(cpuBefore, cpuMs(), answered) : {};
  return {
    ...cpu,
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    runs,
    failed: runs.reduce((sum, r) => sum + r.failed, 0),
  };
}

function cpuPerRequest(before: Map<string, number>, after: Map<string, number>, answered: number) {
  const byProcess: Record<string, number> = {};
  for (const [name, ms] of after) byProcess[name] = (ms - (before.get(name) ?? 0)) / answered;
  const total = Object.values(byProcess).reduce((sum, ms) => sum + ms, 0);
  return { cpuMsPerRequest: total, cpuMsPerRequestByProcess: byProcess };
}
