import { createHash, createPrivateKey, generateKeyPair, type JsonWebKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { ConfigError, envName, errorMessage, invalidConfiguration } from '@landscape/platform';
import type { SigningKeyConfig } from '../config.ts';

/** An RS256 private key as a JWK; `kid` is its RFC 7638 thumbprint unless the key set names it. */
export interface SigningKey {
  kty: 'RSA';
  kid: string;
  alg: 'RS256';
  use: 'sig';
  n: string;
  e: string;
  d: string;
  p: string;
  q: string;
  dp: string;
  dq: string;
  qi: string;
}

const PRIVATE_PARTS = ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const;
const MIN_MODULUS_BITS = 2048;

/**
 * The token-signing keys, oldest first: from the JWK set in configuration (a Secret), else from the
 * key file, else — where configuration allows it — from a key file created now.
 */
export async function loadSigningKeys(config: SigningKeyConfig, logger: Logger): Promise<SigningKey[]> {
  if (config.jwks !== undefined && config.jwks.trim() !== '') {
    return parseKeySet(config.jwks, `auth.keys.jwks (env ${envName('auth.keys.jwks')})`);
  }
  const file = resolve(config.file);
  if (existsSync(file)) return parseKeySet(readFileSync(file, 'utf8'), `the key file ${file}`);
  if (!config.generate) {
    throw new ConfigError(
      `Missing configuration key: auth.keys.jwks (no token-signing key: set ${envName('auth.keys.jwks')} to a private JWK set, ` +
        `or auth.keys.file (${envName('auth.keys.file')}) to a file holding one; ${file} does not exist)`,
    );
  }
  const key = await generateSigningKey();
  try {
    writeKeySet(file, [key]);
  } catch (error) {
    throw invalidConfiguration('auth.keys.file', `cannot create ${file} (${errorMessage(error)})`);
  }
  logger.info({ file, kid: key.kid }, 'created a token-signing key');
  return [key];
}

/** Rotation: appends a new key, which signs from the next start on; the older keys stay published. */
export async function addSigningKey(file: string): Promise<SigningKey> {
  const path = resolve(file);
  const keys = existsSync(path) ? parseKeySet(readFileSync(path, 'utf8'), `the key file ${path}`) : [];
  const key = await generateSigningKey();
  writeKeySet(path, [...keys, key]);
  return key;
}

export async function generateSigningKey(): Promise<SigningKey> {
  const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: MIN_MODULUS_BITS });
  const jwk = privateKey.export({ format: 'jwk' }) as Record<string, string>;
  return toSigningKey(jwk, 'a generated key');
}

function parseKeySet(text: string, source: string): SigningKey[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(`Invalid token-signing keys in ${source}: not valid JSON`);
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new ConfigError(
      `Invalid token-signing keys in ${source}: expected a JWK set {"keys": [...]} with at least one key`,
    );
  }
  const parsedKeys = keys.map((key: unknown, i) => toSigningKey(key, `${source}, key ${i}`));
  const kids = new Set(parsedKeys.map((k) => k.kid));
  if (kids.size !== parsedKeys.length)
    throw new ConfigError(`Invalid token-signing keys in ${source}: kid values must be unique`);
  return parsedKeys;
}

function toSigningKey(value: unknown, source: string): SigningKey {
  const fail = (problem: string) => new ConfigError(`Invalid token-signing key in ${source}: ${problem}`);
  if (typeof value !== 'object' || value === null) throw fail('not a JWK object');
  const jwk = value as Record<string, unknown>;
  if (jwk['kty'] !== 'RSA') throw fail('only RSA keys (RS256) are supported');
  if (jwk['alg'] !== undefined && jwk['alg'] !== 'RS256') throw fail(`alg must be RS256, not ${String(jwk['alg'])}`);
  if (jwk['use'] !== undefined && jwk['use'] !== 'sig') throw fail('use must be sig');
  const parts = ['n', 'e', ...PRIVATE_PARTS] as const;
  for (const part of parts) {
    if (typeof jwk[part] !== 'string' || jwk[part] === '') throw fail(`missing the private key parameter ${part}`);
  }
  let bits: number | undefined;
  try {
    bits = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' }).asymmetricKeyDetails?.modulusLength;
  } catch {
    throw fail('not a usable RSA private key');
  }
  if (bits === undefined || bits < MIN_MODULUS_BITS)
    throw fail(`the modulus must have at least ${MIN_MODULUS_BITS} bits`);
  const [n, e] = [jwk['n'] as string, jwk['e'] as string];
  const kid = typeof jwk['kid'] === 'string' && jwk['kid'] !== '' ? jwk['kid'] : thumbprint(n, e);
  const [d, p, q, dp, dq, qi] = PRIVATE_PARTS.map((part) => jwk[part] as string) as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  return { kty: 'RSA', kid, alg: 'RS256', use: 'sig', n, e, d, p, q, dp, dq, qi };
}

/** RFC 7638: SHA-256 over the required members in lexicographic order. */
function thumbprint(n: string, e: string): string {
  return createHash('sha256')
    .update(JSON.stringify({ e, kty: 'RSA', n }))
    .digest('base64url');
}

/** Written next to the target, then renamed, so a crash never leaves half a key file. */
function writeKeySet(file: string, keys: SigningKey[]): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify({ keys }, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
}
