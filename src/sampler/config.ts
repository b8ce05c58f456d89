/**
 * The `consistency` config section of the tailer (`consistency: samplerConfigSchema`). Off by default:
 * every sampled key costs a few memcached gets and replica reads per delay. Enabling it needs a truth
 * source — SQL queries per key template on the local replica, or an application module
 * (docs/consistency.md).
 */
import { z } from 'zod';

export const DEFAULT_SAMPLER_DELAYS_MS: readonly number[] = [1_000, 10_000, 60_000];

/** `{name}` placeholders in a key template; each one binds the next `?` of the query. */
export const KEY_PLACEHOLDER = /\{[A-Za-z_][A-Za-z0-9_]*\}/g;

/** `?` outside quoted strings, identifiers and comments: the query's parameters. */
export function countSqlParameters(sql: string): number {
  let n = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'" || c === '"' || c === '`') {
      for (i++; i < sql.length && sql[i] !== c; i++) if (sql[i] === '\\' && c !== '`') i++;
    } else if (c === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n') i++;
    } else if (c === '#') {
      while (i < sql.length && sql[i] !== '\n') i++;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 1;
    } else if (c === '?') n++;
  }
  return n;
}

const truthQuerySchema = z
  .object({
    key: z
      .string()
      .min(1)
      .describe('Key template, e.g. "user:{id}:name"; a key must match it whole ({…} matches 1+ chars).'),
    sql: z
      .string()
      .min(1)
      .describe(
        'Query on the local replica returning the row the cache holds, e.g. "SELECT name FROM app.users ' +
          'WHERE id = ?"; the placeholders bind its ? in order. No row: the key must not be cached.',
      ),
  })
  .strict()
  .superRefine((q, ctx) => {
    const placeholders = q.key.match(KEY_PLACEHOLDER)?.length ?? 0;
    const params = countSqlParameters(q.sql);
    if (placeholders !== params) {
      ctx.addIssue({
        code: 'custom',
        path: ['sql'],
        message: `key template "${q.key}" has ${placeholders} placeholder(s) but the query has ${params} ?`,
      });
    }
  });

const truthSchema = z
  .object({
    queries: z
      .array(truthQuerySchema)
      .default([])
      .describe('Truth by SQL on the local replica, per key template; the first matching template wins.'),
    module: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Instead of (or before) the queries: an ES module whose default export returns ' +
          '{ readTruth?, readCache?, check?, sampleable?, close? } (docs/consistency.md).',
      ),
    user: z
      .string()
      .min(1)
      .optional()
      .describe('User for the truth queries (needs SELECT); default: source.user.'),
    password: z
      .string()
      .optional()
      .describe('Prefer CACHETAIL_CONSISTENCY_TRUTH_PASSWORD or passwordFile. Never logged.'),
    passwordFile: z.string().optional().describe('File holding that password (trailing newline ignored).'),
    database: z.string().min(1).optional().describe('Default database of the truth connection.'),
    poolSize: z.number().int().min(1).max(64).default(4).describe('Connections for the truth queries.'),
  })
  .strict();

export const samplerConfigSchema = z
  .object({
    enabled: z
      .preprocess(
        // CACHETAIL_CONSISTENCY_ENABLED arrives as text.
        (v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v),
        z.boolean().default(false),
      )
      .describe('Run the sampler (needs a truth source).'),
    every: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(100)
      .describe('Check 1 in this many invalidated keys (of those a truth source covers).'),
    delaysMs: z
      .array(z.number().int().min(0).max(3_600_000))
      .min(1)
      .max(10)
      .default([...DEFAULT_SAMPLER_DELAYS_MS])
      .describe('Check each sampled key this long after its delete was acknowledged.'),
    maxPending: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(10_000)
      .describe('Sampled keys waiting for their checks; more are skipped (counted), so memory is bounded.'),
    cacheFormat: z
      .enum(['envelope', 'text'])
      .default('envelope')
      .describe(
        'How cached values compare with the truth: "envelope" = cachetail/app getOrLoad values, compared ' +
          'as JSON (a one-column row as its value, else the row object); "text" = the cached bytes as ' +
          'UTF-8 against the first column as text.',
      ),
    envelopeType: z
      .string()
      .min(1)
      .default('json')
      .describe('With cacheFormat "envelope": the getOrLoad type tag of the sampled values.'),
    truth: truthSchema.optional().describe('Where the replica’s current value of a key comes from.'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.enabled && !c.truth?.module && (c.truth?.queries.length ?? 0) === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['truth'],
        message:
          'consistency.enabled needs a truth source: consistency.truth.queries (key template + SQL) or ' +
          'consistency.truth.module',
      });
    }
  })
  .default({
    enabled: false,
    every: 100,
    delaysMs: [...DEFAULT_SAMPLER_DELAYS_MS],
    maxPending: 10_000,
    cacheFormat: 'envelope',
    envelopeType: 'json',
  })
  .describe(
    'Consistency sampler: fraction of invalidated keys consistent with the replica after each delay.',
  );

export type SamplerConfig = z.output<typeof samplerConfigSchema>;
export type TruthConfig = NonNullable<SamplerConfig['truth']>;
