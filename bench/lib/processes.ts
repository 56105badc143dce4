import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Started {
  name: string;
  pid: number;
  child: ChildProcess;
  /** performance.now() just before spawn. */
  spawnedAt: number;
  logFile: string;
  /** The end of the process's output, for error messages. */
  tail(chars?: number): string;
  exited(): boolean;
  /** Sends the signal, waits for the exit, and kills the whole process group if it does not come. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

const running = new Set<Started>();

/**
 * Spawns a Node process with the same Node as this one, in its own process group so a process that
 * hangs can be killed with its children. Output goes to a file: the benchmark must not spend its own
 * CPU draining request logs while it is generating load.
 */
export function startNode(
  name: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; logDir: string },
): Started {
  const logFile = join(options.logDir, `${name.replace(/[^A-Za-z0-9._-]/g, '_')}-${Date.now()}.log`);
  const fd = openSync(logFile, 'w');
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', fd, fd],
    detached: true,
  });
  closeSync(fd);
  let exitCode: number | null | undefined;
  const exit = new Promise<number | null>((done) => {
    child.once('exit', (code, signal) => {
      exitCode = code ?? (signal ? null : 0);
      done(exitCode);
    });
  });
  child.once('error', () => undefined);
  const started: Started = {
    name,
    pid: child.pid ?? -1,
    child,
    spawnedAt,
    logFile,
    tail: (chars = 3000) => (existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-chars) : ''),
    exited: () => exitCode !== undefined,
    async stop(signal = 'SIGINT', timeoutMs = 30000) {
      if (exitCode === undefined) {
        child.kill(signal);
        const timer = setTimeout(() => killGroup(child.pid), timeoutMs);
        await exit;
        clearTimeout(timer);
      }
      // Children of a landscape that lost its parent must not outlive the benchmark.
      killGroup(child.pid);
      running.delete(started);
      return exitCode ?? null;
    },
  };
  running.add(started);
  return started;
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* the group is gone */
  }
}

/** Stops everything still running, newest first: used on failure and on Ctrl-C. */
export async function stopAll(): Promise<void> {
  for (const started of [...running].reverse()) await started.stop('SIGINT', 20000).catch(() => undefined);
}

/** Last resort when the benchmark itself exits abruptly. */
export function killAllNow(): void {
  for (const started of running) killGroup(started.pid);
}

/** One GET; true on a 200. No keep-alive, so each probe sees the server as a new client would. */
export function probe(url: string, timeoutMs = 2000): Promise<boolean> {
  const client = url.startsWith('https:') ? https : http;
  return new Promise((done) => {
    const request = client.get(url, { agent: false, timeout: timeoutMs, rejectUnauthorized: false }, (response) => {
      response.resume();
      done(response.statusCode === 200);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => done(false));
  });
}

/**
 * Polls until every URL answers 200 (and the extra condition holds); returns the milliseconds since
 * the process was spawned. Fails if the process exits first or the time runs out.
 */
export async function waitReady(
  started: Started,
  urls: string[],
  options: { timeoutMs?: number; intervalMs?: number; also?: () => boolean } = {},
): Promise<number> {
  const { timeoutMs = 90000, intervalMs = 5 } = options;
  const deadline = started.spawnedAt + timeoutMs;
  let pending = [...urls];
  for (;;) {
    if (started.exited()) throw new Error(`${started.name} exited before it was ready:\n${started.tail()}`);
    if (options.also?.() ?? true) {
      const answers = await Promise.all(pending.map((url) => probe(url)));
      pending = pending.filter((_, i) => !answers[i]);
      if (pending.length === 0) return performance.now() - started.spawnedAt;
    }
    if (performance.now() > deadline)
      throw new Error(
        `${started.name} not ready within ${timeoutMs / 1000} s (waiting for ${pending.join(', ') || 'its ready line'}):\n${started.tail()}`,
      );
    await sleep(intervalMs);
  }
}

export function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '0.0.0.0', () => server.close(() => done(true)));
  });
}

/** A test run may hold the landscape's fixed ports for a while: wait, then give up clearly. */
export async function waitForPorts(
  ports: readonly number[],
  timeoutMs = 120000,
  log: (line: string) => void = () => undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    const busy: number[] = [];
    for (const port of ports) if (!(await portFree(port))) busy.push(port);
    if (busy.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(
        `ports ${busy.join(', ')} are still in use after ${timeoutMs / 1000} s: another landscape or test is running; stop it and run the benchmark again`,
      );
    }
    if (!told)
      log(`ports ${busy.join(', ')} are in use (another landscape or test?); waiting up to ${timeoutMs / 1000} s`);
    told = true;
    await sleep(2000);
  }
}

/** User plus system CPU milliseconds a process has used so far, from the kernel's accounting. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name in parentheses may hold spaces; the fields after it are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

// USER_HZ, 100 on every Linux architecture Node runs on.
const CLOCK_TICKS_PER_SECOND = 100;

/** Resident set size in MiB, from the kernel's own accounting. */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb) / 1024;
}

/** The direct children of a process with their command lines. */
export function childrenOf(pid: number): Array<{ pid: number; cmdline: string[] }> {
  const found: Array<{ pid: number; cmdline: string[] }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may hold spaces and parentheses; the fields after its closing one do not.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== pid) continue;
      found.push({
        pid: Number(entry),
        cmdline: readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean),
      });
    } catch {
      /* it exited meanwhile */
    }
  }
  return found;
}
