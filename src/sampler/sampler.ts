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
import { CachetailError } from '../errors.js';
import type { ConsistencyReport, DelayReport } from '../contracts/consistency.js';

export type { ConsistencyReport, DelayReport };

/** What the cache holds, as the application reads it. `value` must be comparable with readTruth's. */
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
  const sampling = new Sampling(samplerSettings(opts), opts.log, opts.registry);
  // Plain functions, not methods: callers may pass them on without their object.
  return {
    observe: (transactions, ackTimeMs) => sampling.observe(transactions, ackTimeMs),
    report: () => sampling.report(),
    drain: () => sampling.drain(),
    stop: () => sampling.stop(),
  };
}

interface SamplerSettings {
  every: number;
  /** Ascending. */
  delays: readonly number[];
  maxPending: number;
  checkTimeoutMs: number;
  now: () => number;
  check: (key: string) => Promise<Verdict | CheckResult>;
}

/** The options with their defaults, validated once. */
function samplerSettings(opts: ConsistencySamplerOptions): SamplerSettings {
  const every = opts.every ?? 100;
  const delays = [...(opts.delaysMs ?? DEFAULT_SAMPLER_DELAYS_MS)].sort((a, b) => a - b);
  const maxPending = opts.maxPending ?? 10_000;
  const checkTimeoutMs = opts.checkTimeoutMs ?? 5_000;
  const now = opts.now ?? Date.now;
  if (!Number.isInteger(every) || every < 1)
    throw new CachetailError('CONFIG_INVALID', `every must be an integer ≥ 1: ${every}`);
  if (delays.length === 0)
    throw new CachetailError('CONFIG_INVALID', 'delaysMs must name at least one delay');
  return { every, delays, maxPending, checkTimeoutMs, now, check: checkFromOptions(opts) };
}

function checkFromOptions(opts: ConsistencySamplerOptions): (key: string) => Promise<Verdict | CheckResult> {
  if (opts.check) return opts.check;
  if (opts.readCache && opts.readTruth) return compareWithTruth(opts.readCache, opts.readTruth);
  throw new CachetailError('CONFIG_INVALID', 'give check, or readCache and readTruth');
}

type Tally = Record<CheckResult, number>;

const emptyTally = (): Tally => ({ consistent: 0, stale: 0, error: 0 });

interface SamplerMetrics {
  checks: Counter<'delay' | 'result'>;
  samples: Counter<'outcome'>;
}

/** The cachetail_consistency_* series; the fraction gauge reads `within` at each scrape. */
function registerSamplerMetrics(
  registry: Registry,
  delays: readonly number[],
  within: readonly Tally[],
): SamplerMetrics {
  const checks = new Counter({
    name: 'cachetail_consistency_checks_total',
    help: 'Sampled keys checked against the replica, by delay after the acknowledged delete and result.',
    labelNames: ['delay', 'result'],
    registers: [registry],
  });
  const samples = new Counter({
    name: 'cachetail_consistency_samples_total',
    help: 'Invalidated keys picked for a consistency check (sampled) or dropped at the pending bound (skipped).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  // Pre-create every series so a dashboard sees zeros, not gaps.
  for (const d of delays) for (const r of CHECK_RESULTS) checks.labels(delayLabel(d), r).inc(0);
  samples.labels('sampled').inc(0);
  samples.labels('skipped').inc(0);
  new Gauge({
    name: 'cachetail_consistency_fraction',
    help: 'Fraction of sampled keys consistent with the replica within each delay after the acknowledged delete (at that check or an earlier one; NaN before any decided check).',
    labelNames: ['delay'],
    registers: [registry],
    collect() {
      delays.forEach((d, i) => this.labels(delayLabel(d)).set(fraction(within[i]) ?? Number.NaN));
    },
  });
  return { checks, samples };
}

/** A sampled key whose checks have not all run. The object itself is its pending token. */
interface SampledKey {
  key: string;
  txn: SampledTransaction;
  ackTimeMs: number;
  /** Whether an earlier check of this key found it consistent / stale (for `within`). */
  seenConsistent: boolean;
  seenStale: boolean;
}

/** The sampler's state and steps: pick keys, arm their checks, run them, count the results. */
class Sampling {
  /** Per delay: what the check at that delay found. */
  private readonly counts: Tally[];
  /** Per delay: consistent at that check or an earlier one of the same key (DelayReport.within). */
  private readonly within: Tally[];
  private readonly metrics: SamplerMetrics | undefined;
  private keysSeen = 0;
  private sampled = 0;
  private skipped = 0;
  /** Its size is the pending count. */
  private readonly pendingKeys = new Set<SampledKey>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private idle: (() => void)[] = [];

  constructor(
    private readonly settings: SamplerSettings,
    private readonly log: SamplerLog | undefined,
    registry: Registry | undefined,
  ) {
    this.counts = settings.delays.map(emptyTally);
    this.within = settings.delays.map(emptyTally);
    this.metrics = registry ? registerSamplerMetrics(registry, settings.delays, this.within) : undefined;
  }

  observe(transactions: Iterable<SampledTransaction>, ackTimeMs = this.settings.now()): void {
    for (const txn of transactions) {
      for (const key of txn.keys) this.consider(key, txn, ackTimeMs);
    }
  }

  /** Samples 1 in `every` keys, unless maxPending sampled keys are waiting already. */
  private consider(key: string, txn: SampledTransaction, ackTimeMs: number): void {
    // A counter, not a random draw: exactly 1 in N, and reproducible in tests.
    if (this.keysSeen++ % this.settings.every !== 0) return;
    if (this.pendingKeys.size >= this.settings.maxPending) {
      this.skipped++;
      this.metrics?.samples.labels('skipped').inc();
      return;
    }
    this.sampled++;
    this.metrics?.samples.labels('sampled').inc();
    const sampledKey: SampledKey = { key, txn, ackTimeMs, seenConsistent: false, seenStale: false };
    this.pendingKeys.add(sampledKey);
    this.scheduleCheck(sampledKey, 0);
  }

  /** Arms the check at delays[i] after the acknowledgement; a key's checks run one after another. */
  private scheduleCheck(sampledKey: SampledKey, i: number): void {
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        this.startCheck(sampledKey, i);
      },
      Math.max(0, sampledKey.ackTimeMs + this.settings.delays[i] - this.settings.now()),
    );
    // A sampler must never keep a stopping process alive.
    timer.unref();
    this.timers.add(timer);
  }

  /** Runs the check at delays[i]; once it has finished, arms the next one unless stop() came first. */
  private startCheck(sampledKey: SampledKey, i: number): void {
    const p = this.runCheck(sampledKey, i)
      .then((result) => this.countWithin(sampledKey, i, result))
      .finally(() => {
        this.running.delete(p);
        if (i + 1 < this.settings.delays.length && this.pendingKeys.has(sampledKey)) {
          this.scheduleCheck(sampledKey, i + 1);
        } else {
          this.pendingKeys.delete(sampledKey);
        }
        this.settle();
      });
    this.running.add(p);
  }

  private async runCheck(sampledKey: SampledKey, i: number): Promise<CheckResult> {
    const delayMs = this.settings.delays[i];
    const verdict = await verdictWithin(this.settings.check, sampledKey.key, this.settings.checkTimeoutMs);
    this.counts[i][verdict.result]++;
    this.metrics?.checks.labels(delayLabel(delayMs), verdict.result).inc();
    if (verdict.result === 'stale') this.logViolation(sampledKey, delayMs, verdict);
    return verdict.result;
  }

  private countWithin(sampledKey: SampledKey, i: number, result: CheckResult): void {
    sampledKey.seenConsistent ||= result === 'consistent';
    sampledKey.seenStale ||= result === 'stale';
    const w = this.within[i];
    if (sampledKey.seenConsistent) w.consistent++;
    else if (sampledKey.seenStale) w.stale++;
    else w.error++;
  }

  private logViolation({ key, txn, ackTimeMs }: SampledKey, delayMs: number, verdict: Verdict): void {
    const checkedAt = this.settings.now();
    this.log?.warn(
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

  report(): ConsistencyReport {
    return {
      every: this.settings.every,
      keysSeen: this.keysSeen,
      sampled: this.sampled,
      skipped: this.skipped,
      pending: this.pendingKeys.size,
      delays: this.settings.delays.map((delayMs, i) => delayReport(delayMs, this.counts[i], this.within[i])),
    };
  }

  drain(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.idle.push(resolve);
      this.settle();
    });
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    // Cancelled checks no longer hold their keys as pending; running ones finish on their own.
    this.timers.clear();
    this.pendingKeys.clear();
    this.settle();
  }

  /** Wakes the drain() callers once nothing is pending, armed or running. */
  private settle(): void {
    if (this.pendingKeys.size === 0 && this.timers.size === 0 && this.running.size === 0) {
      const waiting = this.idle;
      this.idle = [];
      for (const w of waiting) w();
    }
  }
}

/** The check's verdict; a failure or no answer within checkTimeoutMs is an 'error' verdict. */
async function verdictWithin(
  check: (key: string) => Promise<Verdict | CheckResult>,
  key: string,
  checkTimeoutMs: number,
): Promise<Verdict> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const r = await Promise.race([
      check(key),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new CachetailError('SAMPLER_CHECK_FAILED', `no answer in ${checkTimeoutMs} ms`)),
          checkTimeoutMs,
        );
        timer.unref();
      }),
    ]);
    return typeof r === 'string' ? { result: r } : r;
  } catch (err) {
    return { result: 'error', error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

function delayReport(delayMs: number, c: Tally, within: Tally): DelayReport {
  return {
    delayMs,
    checks: c.consistent + c.stale + c.error,
    consistent: c.consistent,
    stale: c.stale,
    errors: c.error,
    within: { consistent: within.consistent, stale: within.stale, errors: within.error },
    fraction: fraction(within),
  };
}

function fraction(c: { consistent: number; stale: number }): number | null {
  const decided = c.consistent + c.stale;
  return decided === 0 ? null : c.consistent / decided;
}
