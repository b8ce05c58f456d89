/**
 * Consistency sampler (issue 8): for 1 in N invalidated keys, look at the regional cache at fixed delays
 * after the sink acknowledged the delete and compare it with the truth (the local replica).
 *
 * "Consistent" at a delay means the cache does not hold a value older than the replica's row: the key is
 * absent, a hold-off tombstone, or holds a value equal to the row. Anything else is stale, logged with
 * key, GTID and timings. The cache value format is the application's, so reading the cache and the
 * truth are callbacks (`readCache` + `readTruth`, or one `check`).
 *
 * The sampler never blocks the tailer: `observe` only counts and arms timers; checks run later, and at
 * most `maxPending` sampled keys wait at any time (the rest are counted as skipped).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { DEFAULT_SAMPLER_DELAYS_MS } from './config.js';
import type { ConsistencyReport, DelayReport } from '../contracts/consistency.js';

/** What the cache holds, as the application reads it. `value` must be comparable with readTruth's. */
export type { ConsistencyReport, DelayReport };

export type CacheRead = { state: 'absent' } | { state: 'tombstone' } | { state: 'value'; value: string };
export type CheckResult = 'consistent' | 'stale' | 'error';
export const CHECK_RESULTS: readonly CheckResult[] = ['consistent', 'stale', 'error'];

export interface Verdict {
  result: CheckResult;
  /** For the violation log: what the cache held and what the truth was. */
  cache?: string | undefined;
  truth?: readonly (string | null)[] | undefined;
  error?: string | undefined;
}

/** The part of a committed transaction the sampler uses (src/sinks/sink.ts CommittedTransaction fits). */
export interface SampledTransaction {
  gtid?: string | undefined;
  commitTimeMs?: number | undefined;
  keys: readonly string[];
}

export interface SamplerLog {
  warn(obj: object, msg: string): void;
}

export interface ConsistencySamplerOptions {
  /** Check 1 in this many invalidated keys (default 100). */
  every?: number;
  /** Delays after the acknowledgement (default 1 s, 10 s, 60 s). */
  delaysMs?: readonly number[];
  /** Sampled keys with checks outstanding; beyond it keys are skipped (default 10,000). */
  maxPending?: number;
  /**
   * A check without an answer for this long is an error (default 5 s): a client whose request hangs
   * (memjs across a server restart) must not hold its key pending for ever and fill maxPending.
   */
  checkTimeoutMs?: number;
  /** The cache as the application sees it. With readTruth; or give `check`. */
  readCache?: (key: string) => Promise<CacheRead>;
  /** The replica's current value for the key, in the form readCache returns; null = no row. */
  readTruth?: (key: string) => Promise<string | null>;
  /** A whole check in one callback (replaces readCache/readTruth). */
  check?: (key: string) => Promise<Verdict | CheckResult>;
  log?: SamplerLog;
  /** Registers cachetail_consistency_* metrics here when given. */
  registry?: Registry;
  now?: () => number;
}

export interface ConsistencySampler {
  /** Call once per sink acknowledgement with the transactions it covered (cheap; never throws). */
  observe(transactions: Iterable<SampledTransaction>, ackTimeMs?: number): void;
  report(): ConsistencyReport;
  /** Resolves once every armed check has run (for tests and the chaos checker). */
  drain(): Promise<void>;
  /** Cancels the checks not yet run. */
  stop(): void;
}

/**
 * Compares cache and truth without false alarms from writes landing during the check: the truth is read
 * before and (only if needed) after the cache read; a cached value equal to either was current at some
 * instant of the check, so it is not older than the row.
 */
export function compareWithTruth(
  readCache: (key: string) => Promise<CacheRead>,
  readTruth: (key: string) => Promise<string | null>,
): (key: string) => Promise<Verdict> {
  return async (key) => {
    const before = await readTruth(key);
    const cached = await readCache(key);
    if (cached.state !== 'value') return { result: 'consistent' };
    if (cached.value === before) return { result: 'consistent' };
    const after = await readTruth(key);
    if (cached.value === after) return { result: 'consistent' };
    return { result: 'stale', cache: cached.value, truth: [before, after] };
  };
}

export function delayLabel(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

export function createConsistencySampler(opts: ConsistencySamplerOptions): ConsistencySampler {
  const every = opts.every ?? 100;
  const delays = [...(opts.delaysMs ?? DEFAULT_SAMPLER_DELAYS_MS)].sort((a, b) => a - b);
  const maxPending = opts.maxPending ?? 10_000;
  const checkTimeoutMs = opts.checkTimeoutMs ?? 5_000;
  const now = opts.now ?? Date.now;
  if (!Number.isInteger(every) || every < 1) throw new RangeError(`every must be an integer ≥ 1: ${every}`);
  if (delays.length === 0) throw new RangeError('delaysMs must name at least one delay');
  let check: (key: string) => Promise<Verdict | CheckResult>;
  if (opts.check) check = opts.check;
  else if (opts.readCache && opts.readTruth) check = compareWithTruth(opts.readCache, opts.readTruth);
  else throw new TypeError('give check, or readCache and readTruth');

  const counts = delays.map(() => ({ consistent: 0, stale: 0, error: 0 }));
  const within = delays.map(() => ({ consistent: 0, stale: 0, error: 0 }));
  let keysSeen = 0;
  let sampled = 0;
  let skipped = 0;
  // One token per sampled key whose checks have not all run; its size is the pending count.
  const pendingKeys = new Set<object>();
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<void>>();
  let idle: (() => void)[] = [];

  const checks = opts.registry
    ? new Counter({
        name: 'cachetail_consistency_checks_total',
        help: 'Sampled keys checked against the replica, by delay after the acknowledged delete and result.',
        labelNames: ['delay', 'result'],
        registers: [opts.registry],
      })
    : undefined;
  const samples = opts.registry
    ? new Counter({
        name: 'cachetail_consistency_samples_total',
        help: 'Invalidated keys picked for a consistency check (sampled) or dropped at the pending bound (skipped).',
        labelNames: ['outcome'],
        registers: [opts.registry],
      })
    : undefined;
  if (opts.registry) {
    // Pre-create every series so a dashboard sees zeros, not gaps.
    for (const d of delays) for (const r of CHECK_RESULTS) checks?.labels(delayLabel(d), r).inc(0);
    samples?.labels('sampled').inc(0);
    samples?.labels('skipped').inc(0);
    new Gauge({
      name: 'cachetail_consistency_fraction',
      help: 'Fraction of sampled keys consistent with the replica within each delay after the acknowledged delete (at that check or an earlier one; NaN before any decided check).',
      labelNames: ['delay'],
      registers: [opts.registry],
      collect() {
        delays.forEach((d, i) => this.labels(delayLabel(d)).set(fraction(within[i]) ?? Number.NaN));
      },
    });
  }

  const settle = () => {
    if (pendingKeys.size === 0 && timers.size === 0 && running.size === 0) {
      const waiting = idle;
      idle = [];
      for (const w of waiting) w();
    }
  };

  const runCheck = async (
    key: string,
    i: number,
    txn: SampledTransaction,
    ackTimeMs: number,
  ): Promise<CheckResult> => {
    const delayMs = delays[i];
    let verdict: Verdict;
    let timer: NodeJS.Timeout | undefined;
    try {
      const r = await Promise.race([
        check(key),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer in ${checkTimeoutMs} ms`)), checkTimeoutMs);
          timer.unref();
        }),
      ]);
      verdict = typeof r === 'string' ? { result: r } : r;
    } catch (err) {
      verdict = { result: 'error', error: err instanceof Error ? err.message : String(err) };
    } finally {
      clearTimeout(timer);
    }
    const c = counts[i];
    c[verdict.result]++;
    checks?.labels(delayLabel(delayMs), verdict.result).inc();
    if (verdict.result === 'stale') {
      const checkedAt = now();
      opts.log?.warn(
        {
          key,
          gtid: txn.gtid,
          delayMs,
          commitTimeMs: txn.commitTimeMs,
          ackTimeMs,
          checkedAt,
          sinceAckMs: checkedAt - ackTimeMs,
          cache: verdict.cache,
          truth: verdict.truth,
        },
        'consistency violation: cache holds a value older than the replica',
      );
    }
    return verdict.result;
  };

  /** One key's checks, in delay order, each after the previous one finished. */
  const arm = (key: string, txn: SampledTransaction, ackTimeMs: number) => {
    const token = {};
    pendingKeys.add(token);
    let seenConsistent = false;
    let seenStale = false;
    const schedule = (i: number) => {
      const timer = setTimeout(
        () => {
          timers.delete(timer);
          const p = runCheck(key, i, txn, ackTimeMs)
            .then((result) => {
              seenConsistent ||= result === 'consistent';
              seenStale ||= result === 'stale';
              const w = within[i];
              if (seenConsistent) w.consistent++;
              else if (seenStale) w.stale++;
              else w.error++;
            })
            .finally(() => {
              running.delete(p);
              if (i + 1 < delays.length && pendingKeys.has(token)) schedule(i + 1);
              else pendingKeys.delete(token);
              settle();
            });
          running.add(p);
        },
        Math.max(0, ackTimeMs + delays[i] - now()),
      );
      // A sampler must never keep a stopping process alive.
      timer.unref();
      timers.add(timer);
    };
    schedule(0);
  };

  return {
    observe(transactions, ackTimeMs = now()) {
      for (const txn of transactions) {
        for (const key of txn.keys) {
          // A counter, not a random draw: exactly 1 in N, and reproducible in tests.
          if (keysSeen++ % every !== 0) continue;
          if (pendingKeys.size >= maxPending) {
            skipped++;
            samples?.labels('skipped').inc();
            continue;
          }
          sampled++;
          samples?.labels('sampled').inc();
          arm(key, txn, ackTimeMs);
        }
      }
    },
    report() {
      return {
        every,
        keysSeen,
        sampled,
        skipped,
        pending: pendingKeys.size,
        delays: delays.map((delayMs, i) => {
          const c = counts[i];
          return {
            delayMs,
            checks: c.consistent + c.stale + c.error,
            consistent: c.consistent,
            stale: c.stale,
            errors: c.error,
            within: { consistent: within[i].consistent, stale: within[i].stale, errors: within[i].error },
            fraction: fraction(within[i]),
          };
        }),
      };
    },
    drain() {
      return new Promise<void>((resolve) => {
        idle.push(resolve);
        settle();
      });
    },
    stop() {
      for (const t of timers) clearTimeout(t);
      // Cancelled checks no longer hold their keys as pending; running ones finish on their own.
      timers.clear();
      pendingKeys.clear();
      settle();
    },
  };
}

function fraction(c: { consistent: number; stale: number }): number | null {
  const decided = c.consistent + c.stale;
  return decided === 0 ? null : c.consistent / decided;
}
