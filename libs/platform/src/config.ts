import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from '@landscape/vendor/yaml';
import type { Static, TSchema } from '@landscape/vendor/typebox';
import { Value } from '@landscape/vendor/typebox/value';

/** The repository's config-repo, used when CONFIG_LOCATION is not set (a laptop checkout). */
export const defaultConfigLocation = resolve(import.meta.dirname, '../../../config-repo');

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** The start-up error for a key whose value is wrong, naming the key and the variable that sets it. */
export const invalidConfiguration = (key: string, problem: string) =>
  new ConfigError(`Invalid configuration key ${key}: ${problem} (env ${envName(key)})`);

export interface LoadConfigOptions {
  /** Names the `<service>.yml` file looked up in a CONFIG_LOCATION folder. */
  service: string;
  env?: Record<string, string | undefined>;
  /** Dotted keys that hold credentials: they may only come from the environment. */
  secretKeys?: readonly string[];
}

type Tree = Record<string, unknown>;

const isTree = (value: unknown): value is Tree => typeof value === 'object' && value !== null && !Array.isArray(value);

/** `database.poolSize` → `DATABASE_POOL_SIZE`. */
export function envName(key: string): string {
  return key
    .split('.')
    .map((part) =>
      part
        .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
        .replace(/-/g, '_')
        .toUpperCase(),
    )
    .join('_');
}

/**
 * Loads YAML files named by CONFIG_LOCATION (files or folders, comma-separated), applies the profile
 * sections named by CONFIG_PROFILES in that order, then environment variables, then validates against
 * the schema. Any problem stops start-up with an error naming the key.
 */
export function loadConfig<S extends TSchema>(schema: S, options: LoadConfigOptions): Static<S> {
  const env = options.env ?? process.env;
  const profiles = splitList(env['CONFIG_PROFILES']);
  const files = resolveFiles(splitList(env['CONFIG_LOCATION'] ?? defaultConfigLocation), options.service);

  let merged: Tree = {};
  for (const file of files) {
    for (const section of readSections(file, profiles)) {
      for (const secret of options.secretKeys ?? []) {
        if (getPath(section, secret) !== undefined) {
          throw new ConfigError(
            `${secret} is a credential and may only be set through the environment (${envName(secret)}), not in ${file}`,
          );
        }
      }
      merged = deepMerge(merged, section);
    }
  }
  applyEnv(schema, merged, env);
  return validate(schema, merged);
}

function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function resolveFiles(locations: string[], service: string): string[] {
  const files: string[] = [];
  for (const location of locations) {
    if (!existsSync(location)) throw new ConfigError(`CONFIG_LOCATION entry not found: ${location}`);
    if (statSync(location).isDirectory()) {
      for (const name of ['application.yml', `${service}.yml`]) {
        if (existsSync(join(location, name))) files.push(join(location, name));
      }
    } else {
      files.push(location);
    }
  }
  return files;
}

/** The base document of a file, then its `on-profile` documents in the order the profiles are active. */
function readSections(file: string, profiles: string[]): Tree[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  const base: Tree[] = [];
  const byProfile = new Map<string, Tree[]>();
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length > 0) throw new ConfigError(`Invalid YAML in ${file}: ${doc.errors[0]?.message}`);
    const content: unknown = doc.toJS();
    if (content === null || content === undefined) continue;
    if (!isTree(content)) throw new ConfigError(`${file}: every YAML document must be a mapping`);
    const { ['on-profile']: onProfile, ...rest } = content;
    if (onProfile === undefined) {
      base.push(rest);
      continue;
    }
    const names = Array.isArray(onProfile) ? onProfile.map(String) : splitList(String(onProfile));
    for (const name of names) byProfile.set(name, [...(byProfile.get(name) ?? []), rest]);
  }
  return [...base, ...profiles.flatMap((p) => byProfile.get(p) ?? [])];
}

function deepMerge(target: Tree, source: Tree): Tree {
  const out: Tree = { ...target };
  for (const [key, value] of Object.entries(source)) {
    const current = out[key];
    out[key] = isTree(current) && isTree(value) ? deepMerge(current, value) : value;
  }
  return out;
}

function getPath(tree: Tree, key: string): unknown {
  let node: unknown = tree;
  for (const part of key.split('.')) {
    if (!isTree(node)) return undefined;
    node = node[part];
  }
  return node;
}

function setPath(tree: Tree, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (!isTree(next)) node[part] = {};
    node = node[part] as Tree;
  }
  node[parts[parts.length - 1] as string] = value;
}

interface Leaf {
  key: string;
  schema: Tree;
}

/** Every scalar or list key the schema declares; records (free-form maps) take no env override. */
function leaves(schema: Tree, prefix = ''): Leaf[] {
  const properties = schema['properties'];
  if (schema['type'] === 'object' && isTree(properties)) {
    return Object.entries(properties).flatMap(([name, child]) =>
      isTree(child) ? leaves(child, prefix ? `${prefix}.${name}` : name) : [],
    );
  }
  if (schema['type'] === 'object' || schema['patternProperties'] !== undefined) return [];
  return prefix ? [{ key: prefix, schema }] : [];
}

function applyEnv(schema: TSchema, tree: Tree, env: Record<string, string | undefined>): void {
  for (const leaf of leaves(schema as unknown as Tree)) {
    const raw = env[envName(leaf.key)];
    if (raw === undefined) continue;
    setPath(tree, leaf.key, leaf.schema['type'] === 'array' ? splitList(raw) : raw);
  }
}

function validate<S extends TSchema>(schema: S, tree: Tree): Static<S> {
  const value = Value.Convert(schema, Value.Default(schema, tree));
  const first = [...Value.Errors(schema, value)][0];
  // Keys the schema does not declare (application.yml's messaging for a service without a bus) are dropped.
  if (first === undefined) return Value.Clean(schema, value) as Static<S>;
  const params = (first as { params?: { requiredProperties?: string[] } }).params;
  const path = first.instancePath.split('/').filter(Boolean);
  if (first.keyword === 'required' && params?.requiredProperties?.[0] !== undefined) {
    const key = [...path, params.requiredProperties[0]].join('.');
    throw new ConfigError(`Missing configuration key: ${key} (set it in a config file or as ${envName(key)})`);
  }
  const key = path.join('.') || '(root)';
  throw invalidConfiguration(key, first.message);
}
