import { appendFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The fault suite's table: every row file records (row, attempts, failures) here, and `npm test` prints
 * the table after the run. A file, because node --test runs each test file in a process of its own.
 */
const file =
  process.env.LANDSCAPE_FAULT_SUMMARY ??
  join(tmpdir(), `landscape-fault-summary-${process.env.LANDSCAPE_TEST_TAG ?? 'main'}.jsonl`);

export interface RowResult {
  row: string;
  attempts: number;
  failures: number;
}

export function recordRow(result: RowResult): void {
  appendFileSync(file, `${JSON.stringify(result)}\n`);
}

export function readRows(): RowResult[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RowResult);
}

export function formatTable(rows: RowResult[]): string {
  const width = Math.max(3, ...rows.map((r) => r.row.length));
  const lines = [`${'row'.padEnd(width)}  attempts  failures`, `${'-'.repeat(width)}  --------  --------`];
  for (const r of rows)
    lines.push(`${r.row.padEnd(width)}  ${String(r.attempts).padStart(8)}  ${String(r.failures).padStart(8)}`);
  return lines.join('\n');
}

// `node tests/fault/summary.ts --reset` empties the table before a run; without arguments it prints it.
if (import.meta.filename === process.argv[1]) {
  if (process.argv.includes('--reset')) rmSync(file, { force: true });
  else {
    const rows = readRows();
    if (rows.length > 0) console.log(`\nFault suite\n${formatTable(rows)}`);
  }
}
