/**
 * `npm run docs:config`: writes docs/config-reference.md from the config schemas themselves, so the
 * reference cannot drift from what the loaders accept. zod turns each schema into JSON Schema (input
 * side: defaults shown, fields with a default not required); this walks it and prints one row per field
 * with its type, default, environment variable (from the loader's env path list) and `.describe()` text.
 * test/unit/deploy/config-reference.test.ts fails when the committed file is not what this produces.
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { consumerConfigSchema, consumerEnvPaths } from '../src/consumer/config.js';
import { edgeConfigSchema, edgeEnvPaths } from '../src/config/edge.js';
import { envName } from '../src/config/load.js';
import { tailerConfigSchema } from '../src/config/schema.js';
import { tailerEnvPaths } from '../src/config/tailer.js';

export const REFERENCE_PATH = 'docs/config-reference.md';

interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  additionalProperties?: JsonSchema | boolean;
  propertyNames?: JsonSchema;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  pattern?: string;
  format?: string;
}

interface Row {
  path: string;
  type: string;
  dflt: string;
  env: string;
  description: string;
}

interface Section {
  title: string;
  command: string;
  source: string;
  schema: z.ZodType;
  envPaths: ReadonlyArray<readonly [readonly string[], string]>;
}

const SECTIONS: Section[] = [
  {
    title: 'cachetail tail',
    command: 'cachetail tail --config FILE',
    source: 'src/config/schema.ts (memcached: src/sinks/memcached/config.ts)',
    schema: tailerConfigSchema,
    envPaths: tailerEnvPaths,
  },
  {
    title: 'cachetail edge',
    command: 'cachetail edge --config FILE',
    source: 'src/config/edge.ts',
    schema: edgeConfigSchema,
    envPaths: edgeEnvPaths,
  },
  {
    title: 'cachetail consume',
    command: 'cachetail consume --config FILE',
    source: 'src/consumer/config.ts',
    schema: consumerConfigSchema,
    envPaths: consumerEnvPaths,
  },
];

// Number.MAX_SAFE_INTEGER is zod's bound for .int() without .max(): not worth printing.
const UNBOUNDED = Number.MAX_SAFE_INTEGER;

function typeOf(s: JsonSchema): string {
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (s.enum) return s.enum.map((v) => `\`${String(v)}\``).join(' | ');
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return alternatives.map(shape).join(' | ');
  const type = Array.isArray(s.type) ? s.type.join(' or ') : s.type;
  if (type === 'array') return `list of ${s.items ? typeOf(s.items) : 'values'}`;
  if (type === 'object' && !s.properties && typeof s.additionalProperties === 'object') {
    const key = s.propertyNames?.description ?? 'name';
    return `map of ${key} → ${typeOf(s.additionalProperties)}`;
  }
  if (type === 'integer' || type === 'number') {
    const hi = s.maximum !== undefined && s.maximum < UNBOUNDED ? s.maximum : undefined;
    if (s.minimum !== undefined && hi !== undefined) return `${type} ${s.minimum}–${hi}`;
    if (s.minimum !== undefined) return `${type} ≥ ${s.minimum}`;
    if (s.exclusiveMinimum !== undefined) return `${type} > ${s.exclusiveMinimum}`;
    return type;
  }
  if (type === 'string' && s.format === 'uri') return 'URL';
  if (type === 'string' && s.description === 'host:port') return '`host:port`';
  return type ?? 'any';
}

/** A one-line shape of an object alternative, e.g. `{"kind":"gtid","gtid":…}`. */
function shape(s: JsonSchema): string {
  if (!s.properties) return typeOf(s);
  const parts = Object.entries(s.properties).map(([k, v]) =>
    v.const !== undefined ? `"${k}":${JSON.stringify(v.const)}` : `"${k}":…`,
  );
  return `\`{${parts.join(',')}}\``;
}

function walk(s: JsonSchema, path: string[], required: boolean, env: Map<string, string>, rows: Row[]): void {
  const isObject = s.type === 'object' && s.properties !== undefined && !(s.anyOf ?? s.oneOf);
  if (isObject && path.length > 0 && s.description) {
    // A described section gets its own row, so its description is not lost.
    rows.push({ path: path.join('.'), type: 'object', dflt: '', env: '', description: s.description });
  }
  if (isObject) {
    const req = new Set(s.required ?? []);
    for (const [key, child] of Object.entries(s.properties!))
      walk(child, [...path, key], req.has(key), env, rows);
    return;
  }
  const dotted = path.join('.');
  rows.push({
    path: dotted,
    type: typeOf(s),
    dflt: s.default !== undefined ? `\`${JSON.stringify(s.default)}\`` : required ? '(required)' : '—',
    env: env.get(dotted) ?? '',
    description: s.description ?? '',
  });
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderConfigReference(): string {
  const out: string[] = [
    '# Configuration reference',
    '',
    '<!-- Generated by `npm run docs:config` (scripts/docs-config.ts) from the config schemas. Do not edit:',
    '     change the schema (its .describe() texts) and run the script; a test fails when this file is stale. -->',
    '',
    'Each command reads an optional JSON file (`--config FILE`) and then environment variables, which win.',
    'Environment names are `CACHETAIL_` + the field path in upper snake case; lists are comma-separated;',
    'booleans are `true`/`false` (or `1`/`0`). Only the fields with an env column can come from the',
    'environment. Unknown fields are errors: every problem is named in one message at start-up.',
    'Secrets (`*.password`, `cookie.keys`) are best given as files (`*File` fields) and are never logged.',
    '"(required)" inside an optional section (e.g. `kafka.sasl`) means: required when that section is given.',
    '',
  ];
  for (const section of SECTIONS) {
    const json = z.toJSONSchema(section.schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
    const env = new Map(section.envPaths.map(([path]) => [path.join('.'), envName(path)]));
    const rows: Row[] = [];
    walk(json, [], true, env, rows);
    // An env path the schema does not have would be ignored at run time: refuse to document it.
    for (const dotted of env.keys()) {
      if (!rows.some((r) => r.path === dotted))
        throw new Error(`${section.title}: env path ${dotted} is not in the schema`);
    }
    out.push(`## \`${section.title}\``, '', `\`${section.command}\` — schema: \`${section.source}\`.`, '');
    out.push('| field | type | default | env | description |', '| --- | --- | --- | --- | --- |');
    for (const r of rows) {
      out.push(
        `| \`${r.path}\` | ${cell(r.type)} | ${cell(r.dflt)} | ${r.env ? `\`${r.env}\`` : ''} | ${cell(r.description)} |`,
      );
    }
    out.push('');
  }
  return out.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(REFERENCE_PATH, renderConfigReference());
  process.stdout.write(`wrote ${REFERENCE_PATH}\n`);
}
