import { isatty } from 'node:tty';
import { pino, type Logger, type LevelWithSilent } from 'pino';
import pretty from '@landscape/vendor/pino-pretty';
import { Type } from '@landscape/vendor/typebox';
import { traceFields } from './tracing/tracing.ts';

export type { Logger } from 'pino';

export const loggingConfigSchema = Type.Object(
  {
    level: Type.Union(
      [
        Type.Literal('fatal'),
        Type.Literal('error'),
        Type.Literal('warn'),
        Type.Literal('info'),
        Type.Literal('debug'),
        Type.Literal('trace'),
        Type.Literal('silent'),
      ],
      { default: 'info' },
    ),
  },
  { default: {} },
);

// One pretty stream for every logger of the process, so the all-in-one landscape prints in order.
let terminal: ReturnType<typeof pretty> | undefined;
// And one JSON stream, asynchronous and batched: lines go out 4 KiB at a time or at least every second,
// not one system call each (at `info` the edge's access line was one write per request). pino flushes
// the rest when the process exits; a process killed outright loses at most the last second.
let output: ReturnType<typeof pino.destination> | undefined;

/**
 * JSON logs with the service name on every line, so a merged stream stays readable; pretty only when a
 * person watches a terminal (LOG_FORMAT=json keeps JSON there too).
 */
export function createLogger(service: string, level: LevelWithSilent = 'info'): Logger {
  // Inside a request or an event handler every line carries the active span's trace_id and span_id.
  const options = { name: service, level, base: { service }, mixin: traceFields };
  // isatty(1) rather than process.stdout.isTTY: a worker thread's stdout is a pipe to the main thread.
  if (!isatty(1) || process.env['LOG_FORMAT'] === 'json') {
    output ??= pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 1000 });
    return pino(options, output);
  }
  terminal ??= pretty({
    sync: true,
    colorize: true,
    singleLine: true,
    ignore: 'pid,hostname,service',
    translateTime: 'HH:MM:ss.l',
  });
  return pino(options, terminal);
}
