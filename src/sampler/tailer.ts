/**
 * The consistency sampler as `cachetail tail` runs it (config `consistency`): the cache is read the way
 * the application's client reads it (the sink's own key → server mapping), the truth comes from SQL
 * queries per key template on the local replica or from an application module. Keys no truth source
 * covers are not sampled (counted as `ignored`).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import memjs from 'memjs';
import mysql, { type Pool, type RowDataPacket } from 'mysql2/promise';
import type { Registry } from 'prom-client';
import { CachetailError, errorMessage } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { mysqlTlsOptions, type ReplicationTls } from '../replication/client.js';
import { createRouter, parseServer, type HashingMode } from '../sinks/memcached/routing.js';
import { isTombstone } from '../sinks/memcached/tombstone.js';
import { decodeEnvelope } from '../app/envelope.js';
import { KEY_PLACEHOLDER, type SamplerConfig, type TruthConfig } from './config.js';
import {
  compareWithTruth,
  createConsistencySampler,
  type CacheRead,
  type CheckResult,
  type ConsistencySampler,
  type Verdict,
} from './sampler.js';

/** What an application module's default export returns (all optional; readTruth or check needed). */
export interface TruthModule {
  /** The replica's current value of `key`, in the form readCache returns; null = must not be cached. */
  readTruth?(key: string): Promise<string | null>;
  /** Replaces the built-in cache reader (e.g. another value format). */
  readCache?(key: string): Promise<CacheRead>;
  /** Replaces the whole comparison. */
  check?(key: string): Promise<Verdict | CheckResult>;
  /** Keys this module can judge; default: all. Keys it cannot are left to the queries (or ignored). */
  sampleable?(key: string): boolean;
  close?(): Promise<void>;
}

export interface TruthModuleContext {
  /** The tailer's replica (the truth), as configured; the password is not included. */
  replica: { host: string; port: number; user: string };
  memcached: { servers: readonly string[]; hashing: HashingMode };
  log: Logger;
}

export interface TailerSamplerDeps {
  source: { host: string; port: number; user: string; password: string; ssl?: ReplicationTls | undefined };
  memcached: { servers: readonly string[]; hashing: HashingMode; weights?: readonly number[] | undefined };
  log: Logger;
  registry?: Registry;
}

export interface TailerSampler {
  sampler: ConsistencySampler;
  observe: ConsistencySampler['observe'];
  /** The sampler's report plus `ignored`: invalidated keys no truth source covers (not sampled). */
  report(): ReturnType<ConsistencySampler['report']> & { ignored: number };
  close(): Promise<void>;
}

interface CompiledQuery {
  template: string;
  pattern: RegExp;
  sql: string;
}

/** `user:{id}:name` → /^user:(.+?):name$/ (the placeholders, in order, bind the query's `?`). */
export function compileKeyTemplate(template: string): RegExp {
  let source = '^';
  let last = 0;
  for (const m of template.matchAll(KEY_PLACEHOLDER)) {
    source += escapeRegExp(template.slice(last, m.index)) + '(.+?)';
    last = m.index + m[0].length;
  }
  return new RegExp(`${source}${escapeRegExp(template.slice(last))}$`, 's');
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A truth row as the cache would hold it: JSON of the one column's value, or of the row object. */
export function rowAsEnvelopeJson(rows: readonly RowDataPacket[]): string | null {
  const row = rows[0];
  if (!row) return null;
  const columns = Object.keys(row);
  return JSON.stringify(columns.length === 1 ? row[columns[0]] : row);
}

function rowAsText(rows: readonly RowDataPacket[]): string | null {
  const row = rows[0];
  if (!row) return null;
  const v: unknown = Object.values(row)[0];
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return `${v}`;
  return JSON.stringify(v) ?? null;
}

/** passwordFile, else password (env CACHETAIL_CONSISTENCY_TRUTH_PASSWORD), else the source's for its user. */
function truthPassword(truth: TruthConfig, fallback: string): string {
  if (truth.passwordFile !== undefined) {
    try {
      return readFileSync(truth.passwordFile, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new CachetailError(
        'CONFIG_READ',
        `cannot read consistency.truth.passwordFile ${truth.passwordFile}: ${errorMessage(err)}`,
        { retryable: false },
      );
    }
  }
  if (truth.password !== undefined) return truth.password;
  return truth.user === undefined ? fallback : '';
}

/** Null when `consistency.enabled` is false. */
export async function createTailerSampler(
  config: SamplerConfig,
  deps: TailerSamplerDeps,
): Promise<TailerSampler | null> {
  if (!config.enabled) return null;
  const truth = config.truth;
  if (!truth)
    throw new CachetailError('CONFIG_INVALID', 'consistency.enabled needs consistency.truth', {
      retryable: false,
    });
  // Each step that fails closes what the steps before it opened: a refused start leaks no connection.
  const caches = memcachedReaders(deps.memcached, config);
  const queries = closingOnError(
    () => truthQueries(truth, deps.source, config.cacheFormat),
    () => caches.close(),
  );
  const truthModule = await loadTruthModule(truth, deps, async () => {
    await queries.close();
    caches.close();
  });
  const sources: TruthSources = { truthModule, queries, caches };
  const sampler = await closingOnErrorAsync(
    () =>
      createConsistencySampler({
        every: config.every,
        delaysMs: config.delaysMs,
        maxPending: config.maxPending,
        check: (key) => checkKey(sources, key),
        log: deps.log.child({ module: 'sampler' }),
        registry: deps.registry,
      }),
    () => closeSources(sources),
  );
  deps.log.info(
    {
      every: config.every,
      delaysMs: config.delaysMs,
      templates: queries.templates,
      module: truth.module ?? null,
    },
    'consistency sampler on',
  );
  return tailerSampler(sampler, sources);
}

/** The cache as the application's client reads it. */
interface CacheReaders {
  /** A reader per server the key maps to (broadcast: all). */
  readersFor(key: string): ((k: string) => Promise<CacheRead>)[];
  close(): void;
}

/** Reads go where the application's client reads: the sink's own mapping, one client per server. */
function memcachedReaders(
  memcached: TailerSamplerDeps['memcached'],
  format: Pick<SamplerConfig, 'cacheFormat' | 'envelopeType'>,
): CacheReaders {
  const servers = memcached.servers.map(parseServer);
  const router = createRouter(memcached.hashing, servers, memcached.weights);
  const clients = servers.map((s) =>
    memjs.Client.create(s.address, { timeout: 1, retries: 0, logger: { log: () => undefined } }),
  );
  return {
    readersFor: (key) =>
      router.serversFor(key).map((i) => async (k) => {
        const { value } = await clients[i].get(k);
        return value === null ? { state: 'absent' } : decodeCacheValue(format, value);
      }),
    close: () => {
      for (const c of clients) c.close();
    },
  };
}

function decodeCacheValue(
  format: Pick<SamplerConfig, 'cacheFormat' | 'envelopeType'>,
  value: Buffer,
): CacheRead {
  if (isTombstone(value)) return { state: 'tombstone' };
  if (format.cacheFormat === 'text') return { state: 'value', value: value.toString('utf8') };
  const d = decodeEnvelope(format.envelopeType, value);
  return { state: 'value', value: d.ok ? JSON.stringify(d.value) : `<${d.why}>` };
}

/** The SQL truth: per key template, a query on the replica (a pool only when there are queries). */
interface TruthQueries {
  templates: string[];
  covers(key: string): boolean;
  readTruth: (key: string) => Promise<string | null>;
  close(): Promise<void>;
}

function truthQueries(
  truth: TruthConfig,
  source: TailerSamplerDeps['source'],
  cacheFormat: SamplerConfig['cacheFormat'],
): TruthQueries {
  const queries: CompiledQuery[] = truth.queries.map((q) => ({
    template: q.key,
    pattern: compileKeyTemplate(q.key),
    sql: q.sql,
  }));
  const pool = queries.length > 0 ? truthPool(truth, source) : null;
  const asTruth = cacheFormat === 'text' ? rowAsText : rowAsEnvelopeJson;
  return {
    templates: queries.map((q) => q.template),
    covers: (key) => queryFor(queries, key) !== null,
    readTruth: async (key) => {
      const found = queryFor(queries, key);
      if (!found || !pool)
        // covers() chose the key: a query matches it, and the pool exists when there are queries.
        throw new CachetailError('INTERNAL', `no truth query matches ${key}`);
      const [rows] = await pool.query<RowDataPacket[]>(found.q.sql, found.params);
      return asTruth(rows);
    },
    close: async () => {
      await pool?.end();
    },
  };
}

/** The first query whose template matches the key, with the key's parts bound to its `?`s. */
function queryFor(
  queries: readonly CompiledQuery[],
  key: string,
): { q: CompiledQuery; params: string[] } | null {
  for (const q of queries) {
    const m = q.pattern.exec(key);
    if (m) return { q, params: m.slice(1) };
  }
  return null;
}

function truthPool(truth: TruthConfig, source: TailerSamplerDeps['source']): Pool {
  const ssl = mysqlTlsOptions(source.ssl);
  return mysql.createPool({
    host: source.host,
    port: source.port,
    user: truth.user ?? source.user,
    password: truthPassword(truth, source.password),
    database: truth.database,
    connectionLimit: truth.poolSize,
    connectTimeout: 5_000,
    // The replica's TLS settings (source.ssl) hold for the truth queries too.
    ...(ssl ? { ssl } : {}),
    // Values compared as the application's loader returned them: DATE/DATETIME as text, big numbers exact.
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
}

/** The application's truth module (null without one); `closeOpened` runs before a failure is thrown. */
async function loadTruthModule(
  truth: TruthConfig,
  deps: TailerSamplerDeps,
  closeOpened: () => Promise<void>,
): Promise<TruthModule | null> {
  if (!truth.module) return null;
  const url = pathToFileURL(resolve(truth.module)).href;
  try {
    return await importTruthModule(url, deps);
  } catch (err) {
    await closeOpened();
    throw new CachetailError(
      'CONFIG_INVALID',
      `consistency.truth.module ${truth.module}: ${errorMessage(err)}`,
      { retryable: false },
    );
  }
}

async function importTruthModule(url: string, deps: TailerSamplerDeps): Promise<TruthModule> {
  const imported = (await import(url)) as { default?: unknown };
  if (typeof imported.default !== 'function')
    throw new CachetailError('CONFIG_INVALID', 'its default export is not a function');
  const ctx: TruthModuleContext = {
    replica: { host: deps.source.host, port: deps.source.port, user: deps.source.user },
    memcached: { servers: deps.memcached.servers, hashing: deps.memcached.hashing },
    log: deps.log.child({ module: 'sampler.truth' }),
  };
  const mod = (await (imported.default as (c: TruthModuleContext) => unknown)(ctx)) as TruthModule;
  if (!mod || (typeof mod.readTruth !== 'function' && typeof mod.check !== 'function')) {
    throw new CachetailError('CONFIG_INVALID', 'it returned neither readTruth nor check');
  }
  return mod;
}

/** Where a key's truth comes from: the module for the keys it covers, else the key's query. */
interface TruthSources {
  truthModule: TruthModule | null;
  queries: TruthQueries;
  caches: CacheReaders;
}

function moduleCovers(mod: TruthModule | null, key: string): boolean {
  return mod !== null && (typeof mod.sampleable !== 'function' || mod.sampleable(key));
}

/** Keys no truth source covers are not sampled. */
function covered(sources: TruthSources, key: string): boolean {
  return moduleCovers(sources.truthModule, key) || sources.queries.covers(key);
}

/** The module's own check when it has one; else cache against truth. */
async function checkKey(sources: TruthSources, key: string): Promise<Verdict | CheckResult> {
  const mod = sources.truthModule;
  if (mod && moduleCovers(mod, key)) {
    if (mod.check) return mod.check(key);
    return compareCachedCopies(sources, key, mod.readTruth!.bind(mod));
  }
  return compareCachedCopies(sources, key, sources.queries.readTruth);
}

/** Every copy the key has (the module's reader, or each server the key maps to); one stale copy makes it stale. */
async function compareCachedCopies(
  sources: TruthSources,
  key: string,
  readTruth: (k: string) => Promise<string | null>,
): Promise<Verdict> {
  const mod = sources.truthModule;
  const readers = mod?.readCache ? [mod.readCache.bind(mod)] : sources.caches.readersFor(key);
  let verdict: Verdict = { result: 'consistent' };
  for (const read of readers) {
    verdict = await compareWithTruth(read, readTruth)(key);
    if (verdict.result !== 'consistent') return verdict;
  }
  return verdict;
}

/** The sampler behind the covered-keys filter, and what closing it closes. */
function tailerSampler(sampler: ConsistencySampler, sources: TruthSources): TailerSampler {
  let ignored = 0;
  return {
    sampler,
    observe(transactions, ackTimeMs) {
      const keep: { gtid?: string | undefined; commitTimeMs?: number | undefined; keys: string[] }[] = [];
      for (const t of transactions) {
        const keys = t.keys.filter((key) => covered(sources, key));
        ignored += t.keys.length - keys.length;
        if (keys.length > 0) keep.push({ gtid: t.gtid, commitTimeMs: t.commitTimeMs, keys });
      }
      if (keep.length > 0) sampler.observe(keep, ackTimeMs);
    },
    report: () => ({ ...sampler.report(), ignored }),
    async close() {
      sampler.stop();
      await closeSources(sources);
    },
  };
}

async function closeSources(sources: TruthSources): Promise<void> {
  sources.caches.close();
  await sources.queries.close();
  await sources.truthModule?.close?.();
}

/** `make()`, or `cleanup()` and the error it threw. */
function closingOnError<T>(make: () => T, cleanup: () => void): T {
  try {
    return make();
  } catch (err) {
    cleanup();
    throw err;
  }
}

async function closingOnErrorAsync<T>(make: () => T, cleanup: () => Promise<void>): Promise<T> {
  try {
    return make();
  } catch (err) {
    await cleanup().catch(() => undefined);
    throw err;
  }
}
