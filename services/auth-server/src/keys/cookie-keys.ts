import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError, envName } from '@landscape/platform';
import type { CookieKeyConfig } from '../config.ts';

const MIN_KEY_LENGTH = 16;

/**
 * The keys that sign the session and interaction cookies, first one signing: from configuration (a
 * Secret, the same for every replica), else from the key file, else — where configuration allows it,
 * as in development — from a file created now, so a restart keeps everyone signed in.
 */
export function loadCookieKeys(config: CookieKeyConfig, logger: Logger): string[] {
  const given = (config.keys ?? []).filter((key) => key !== '');
  if (given.length > 0) return checked(given, `auth.cookies.keys (env ${envName('auth.cookies.keys')})`);
  const file = resolve(config.file);
  if (existsSync(file)) return checked(parseFile(file), `the cookie key file ${file}`);
  if (!config.generate) {
    throw new ConfigError(
      `Missing configuration key: auth.cookies.keys (set ${envName('auth.cookies.keys')} to one or more comma-separated random keys, ` +
        `the same on every replica, or auth.cookies.file (${envName('auth.cookies.file')}) to a file holding a JSON list of them; ${file} does not exist)`,
    );
  }
  const keys = [randomBytes(32).toString('base64url')];
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(keys)}\n`, { mode: 0o600 });
    renameSync(temporary, file);
  } catch (error) {
    throw new ConfigError(
      `Invalid configuration key auth.cookies.file: cannot create ${file} (${(error as Error).message})`,
    );
  }
  logger.info({ file }, 'created a cookie-signing key');
  return keys;
}

function parseFile(file: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new ConfigError(`Invalid cookie keys in ${file}: not valid JSON (expected a list of strings)`);
  }
  if (!Array.isArray(parsed) || !parsed.every((key) => typeof key === 'string')) {
    throw new ConfigError(`Invalid cookie keys in ${file}: expected a JSON list of strings`);
  }
  return parsed as string[];
}

/** Never echoes a key: they are credentials. */
function checked(keys: string[], source: string): string[] {
  if (keys.length === 0) throw new ConfigError(`Invalid cookie keys in ${source}: at least one key is needed`);
  const short = keys.findIndex((key) => key.length < MIN_KEY_LENGTH);
  if (short !== -1)
    throw new ConfigError(
      `Invalid cookie keys in ${source}: key ${short} is shorter than ${MIN_KEY_LENGTH} characters`,
    );
  return keys;
}
