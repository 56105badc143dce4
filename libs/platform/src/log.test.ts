import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';

const importLog = `const { createLogger } = await import(${JSON.stringify(resolve(import.meta.dirname, 'log.ts'))});`;

/** Runs a script with its stdout a pipe (as under a container runtime), collecting what arrives and when. */
function run(code: string) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', `${importLog}\n${code}`], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const lines = () =>
    output
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { msg: string; n?: number; service: string });
  return { child, exited, lines };
}

describe('JSON logs on a pipe', () => {
  it('when a process logs one line and goes quiet, then the line arrives within the flush interval, not only at exit', {
    timeout: 20000,
  }, async () => {
    const { child, exited, lines } = run(`
      createLogger('quiet').info('started');
      process.send('logged');
      setInterval(() => undefined, 1000);`);
    // The child never exits by itself: it is killed whatever the outcome, so a failure cannot hang the run.
    try {
      await new Promise<void>((logged) => child.once('message', () => logged()));
      const deadline = Date.now() + 5000;
      while (lines().length === 0 && Date.now() < deadline) await new Promise((tick) => setTimeout(tick, 50));
      assert.deepEqual(
        lines().map((l) => [l.service, l.msg]),
        [['quiet', 'started']],
      );
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
  });

  it('when a process logs many lines quickly and exits, then every line arrives whole and in order', {
    timeout: 20000,
  }, async () => {
    const { exited, lines } = run(`
      const logger = createLogger('busy');
      for (let n = 0; n < 5000; n++) logger.info({ n }, 'line');
      process.exit(0);`);
    assert.equal(await exited, 0);
    const got = lines();
    assert.equal(got.length, 5000);
    assert.ok(
      got.every((line, i) => line.n === i),
      'lines in the order they were logged',
    );
  });
});
