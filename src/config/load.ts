/**
 * Config loading: JSON file (optional) overlaid by environment variables, validated by the schema,
 * deep-frozen. Env names: CACHETAIL_<PATH> in upper snake case, e.g. source.serverId →
 * CACHETAIL_SOURCE_SERVER_ID; arrays are comma-separated.
 *
 * How errors read: a file that cannot be read (CONFIG_READ) or parsed (CONFIG_PARSE, at `file:line:column`)
 * stops at once; every other problem is named in one CONFIG_INVALID message, a line per field. A missing
 * field is called required, with the variable that can set it.
 */
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { CachetailError, errorMessage } from '../errors.js';
import { jsonSyntaxError } from './json-syntax.js';

type EnvKind = 'string' | 'number' | 'list';
export type EnvPaths = ReadonlyArray<readonly [path: readonly string[], kind: EnvKind]>;
type Issue = z.core.$ZodIssue;

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

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CachetailError('CONFIG_READ', `cannot read config file ${file}: ${errorMessage(err)}`);
  }
  // Editors on Windows may save a byte-order mark, which JSON.parse refuses; it is not part of the text.
  text = text.replace(/^\uFEFF/, '');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Both follow RFC 8259, so the fallback is only there for the type checker.
    const at = jsonSyntaxError(text) ?? { line: 1, column: 1, reason: 'not valid JSON' };
    throw new CachetailError('CONFIG_PARSE', `${file}:${at.line}:${at.column}: invalid JSON: ${at.reason}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CachetailError(
      'CONFIG_PARSE',
      `${file}: expected a JSON object ({ … }) at the top level, found ${kindOf(parsed)}`,
    );
  }
  return parsed as Record<string, unknown>;
}

/**
 * What the schema validates: the file's object overlaid by the environment. An env value that cannot
 * be read (a number that is not one) is kept out of `raw` and named in `envProblems`, by dotted path,
 * so that it is reported with the schema's problems instead of alone.
 */
export interface ConfigInput {
  raw: Record<string, unknown>;
  envProblems: ReadonlyMap<string, string>;
}

export function readConfigInput(
  file: string | undefined,
  env: NodeJS.ProcessEnv,
  envPaths: EnvPaths,
): ConfigInput {
  const raw = file === undefined ? {} : readConfigFile(file);
  const envProblems = new Map<string, string>();
  for (const [path, kind] of envPaths) {
    const name = envName(path);
    const value = env[name];
    if (value === undefined || value === '') continue;
    if (kind === 'number') {
      const n = Number(value);
      if (Number.isFinite(n)) setPath(raw, path, n);
      else envProblems.set(path.join('.'), `${name}=${JSON.stringify(value)} is not a number`);
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
  return { raw, envProblems };
}

/** Nothing was given where the schema wanted a value (as opposed to a value of the wrong kind). */
function isMissing(issue: Issue): boolean {
  const missable =
    issue.code === 'invalid_type' || issue.code === 'invalid_value' || issue.code === 'invalid_union';
  return missable && 'input' in issue && issue.input === undefined;
}

function isMissingSection(issue: Issue): issue is Issue & { path: string[] } {
  return (
    isMissing(issue) &&
    issue.code === 'invalid_type' &&
    issue.expected === 'object' &&
    issue.path.every((p) => typeof p === 'string')
  );
}

const within = (path: readonly PropertyKey[], section: readonly string[]) =>
  section.every((p, i) => path[i] === p);

/**
 * The schema's issues for `raw`. zod reports a section missing as a whole (`source`, `memcached`) as
 * the section; parsed again with it empty, the report names the fields inside it that are required —
 * what the operator has to set. A section whose fields all have defaults is still reported itself.
 */
function schemaIssues(schema: z.ZodType, raw: Record<string, unknown>): readonly Issue[] {
  const result = schema.safeParse(raw, { reportInput: true });
  if (result.success) return [];
  const sections = result.error.issues.filter(isMissingSection);
  if (sections.length === 0) return result.error.issues;
  const filled = structuredClone(raw);
  for (const s of sections) setPath(filled, s.path, {});
  const inner = schemaIssues(schema, filled);
  const empty = sections.filter((s) => !inner.some((i) => within(i.path, s.path)));
  return [...inner, ...empty];
}

function problemLine(issue: Issue, envNames: ReadonlyMap<string, string>): string {
  const path = issue.path.map(String).join('.');
  if (!isMissing(issue)) return `${path || '(root)'}: ${issue.message}`;
  const env = envNames.get(path);
  return `${path} is required (set it in the config file${env === undefined ? '' : ` or ${env}`})`;
}

export type ConfigValidation<T> = { ok: true; config: T } | { ok: false; problems: string[] };

/** Every problem of `input` for `schema`, one line each; the parsed config when there are none. */
export function validateConfig<S extends z.ZodType>(
  schema: S,
  input: ConfigInput,
  envPaths: EnvPaths,
): ConfigValidation<z.output<S>> {
  const problems = [...input.envProblems.values()];
  const result = schema.safeParse(input.raw);
  if (result.success) {
    return problems.length === 0 ? { ok: true, config: result.data } : { ok: false, problems };
  }
  const envNames = new Map(envPaths.map(([path]) => [path.join('.'), envName(path)]));
  for (const issue of schemaIssues(schema, input.raw)) {
    // A bad env value was kept out of raw: what the schema says about its absence is not news.
    if (!input.envProblems.has(issue.path.map(String).join('.'))) problems.push(problemLine(issue, envNames));
  }
  return { ok: false, problems };
}

export function configInvalid(problems: readonly string[]): CachetailError {
  return new CachetailError(
    'CONFIG_INVALID',
    `invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`,
  );
}

export interface LoadOptions<S extends z.ZodType> {
  schema: S;
  /** Paths that may come from the environment, with how to parse them. */
  envPaths: EnvPaths;
  file?: string;
  env: NodeJS.ProcessEnv;
}

export function loadConfig<S extends z.ZodType>(opts: LoadOptions<S>): Readonly<z.output<S>> {
  const input = readConfigInput(opts.file, opts.env, opts.envPaths);
  const validated = validateConfig(opts.schema, input, opts.envPaths);
  if (!validated.ok) throw configInvalid(validated.problems);
  return deepFreeze(validated.config);
}
