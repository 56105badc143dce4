// Starting the landscape the way a user does (`npm start`, `npm run start:services`), for tests that need
// the real processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
export const landscapePorts = [7000, 7001, 7002, 7003, 7004, 9999, 8443, 8080, 8081];

/** The landscape under test takes the standard ports; a landscape left running would answer instead. */
async function assertPortsFree(): Promise<void> {
  for (const port of landscapePorts) {
    await new Promise<void>((done, fail) => {
      const probe = createServer();
      probe.once('error', () => fail(new Error(`port ${port} is in use: stop the running landscape before npm test`)));
      probe.listen(port, '0.0.0.0', () => probe.close(() => done()));
    });
  }
}

export interface Started {
  process: ChildProcess;
  output: () => string;
  stop(): Promise<number | null>;
}

/** Starts an npm start script as a user would and waits for its ready line. */
export async function startLandscape(script: string, cwd: string, env: Record<string, string> = {}): Promise<Started> {
  await assertPortsFree();
  const child = spawn(
    process.execPath,
    ['--env-file-if-exists', join(root, 'dev.env'), join(root, 'scripts', script)],
    {
      cwd,
      env: { ...process.env, LOGGING_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`${script} not ready within 90 s:\n${output.slice(-3000)}`)), 90000);
    const watch = setInterval(() => {
      if (/Ready in \d+ ms/.test(output)) {
        clearInterval(watch);
        clearTimeout(timer);
        done();
      }
    }, 100);
    child.once('exit', (code) => {
      clearInterval(watch);
      clearTimeout(timer);
      fail(new Error(`${script} exited with ${code}:\n${output.slice(-3000)}`));
    });
  });
  child.removeAllListeners('exit');
  return {
    process: child,
    output: () => output,
    stop: () =>
      new Promise((done) => {
        if (child.exitCode !== null) return done(child.exitCode);
        child.once('exit', (code) => done(code));
        child.kill('SIGINT');
      }),
  };
}

/** A client-credentials access token from the auth server at authUrl, for one of the development clients. */
export async function clientToken(authUrl: string, client: 'reader' | 'writer', scope: string): Promise<string> {
  const response = await fetch(`${authUrl}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${client}:secret`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
  });
  const body = (await response.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`no token for ${client}: ${response.status} ${JSON.stringify(body)}`);
  return body.access_token;
}
