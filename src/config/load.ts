/**
 * Config loading: JSON file (optional) overlaid by environment variables, validated by the schema,
 * deep-frozen. Errors name every bad field. Env names: CACHETAIL_<PATH> in upper snake case, e.g.
 * source.serverId → CACHETAIL_SOURCE_SERVER_ID; arrays are comma-separated.
 */
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { CachetailError, errorMessage } from '../errors.js';

type EnvKind = 'string' | 'number' | 'list';

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const part of path.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}

export function envName(path: readonly string[]): string {
  return 'CACHETAIL_' + path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export interface LoadOptions<S extends z.ZodType> {
  schema: S;
  /** Paths that may come from the environment, with how to parse them. */
  envPaths: ReadonlyArray<readonly [path: readonly string[], kind: EnvKind]>;
  file?: string;
  env: NodeJS.ProcessEnv;
}

export function loadConfig<S extends z.ZodType>(opts: LoadOptions<S>): Readonly<z.output<S>> {
  let raw: Record<string, unknown> = {};
  if (opts.file) {
    let text: string;
    try {
      text = readFileSync(opts.file, 'utf8');
    } catch (err) {
      throw new CachetailError('CONFIG_READ', `cannot read config file ${opts.file}: ${errorMessage(err)}`);
    }
    try {
      raw = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw new CachetailError(
        'CONFIG_PARSE',
        `config file ${opts.file} is not valid JSON: ${errorMessage(err)}`,
      );
    }
  }
  for (const [path, kind] of opts.envPaths) {
    const name = envName(path);
    const value = opts.env[name];
    if (value === undefined || value === '') continue;
    if (kind === 'number') {
      const n = Number(value);
      if (!Number.isFinite(n)) {
        throw new CachetailError('CONFIG_INVALID', `${name}=${JSON.stringify(value)} is not a number`);
      }
      setPath(raw, path, n);
    } else if (kind === 'list') {
      setPath(
        raw,
        path,
        value
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== ''),
      );
    } else {
      setPath(raw, path, value);
    }
  }
  const parsed = opts.schema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('\n');
    throw new CachetailError('CONFIG_INVALID', `invalid configuration:\n${problems}`);
  }
  return deepFreeze(parsed.data);
}
