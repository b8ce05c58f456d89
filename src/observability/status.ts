/**
 * What the tailer reports about itself, and the three decisions made from it: alive (/healthz), ready
 * (/readyz, and `ready` in /status) and the /status body. Kept free of HTTP so the rules are tested on
 * their own and the edge router's engineer can read the contract in one place.
 */
import type { GapPolicy, TailerState } from './labels.js';
import type { ConsistencyReport } from '../contracts/consistency.js';
import type { StatusContract, StatusError, Watermark } from '../contracts/status.js';
import { errorCodeOf, errorMessage, type ErrorCode } from '../errors.js';

export type { GapPolicy, StatusError, TailerState, Watermark };
export { TAILER_STATES, GAP_POLICIES } from './labels.js';

/** An unresolved gap: the binlog cannot be followed without possibly missing invalidations. */
export interface GapStatus {
  policy: GapPolicy;
  /** The gap's code (docs/errors.md), e.g. 'BINLOG_UNAVAILABLE', 'GAP_IDENTITY_CHANGED', 'CHECKSUM_MISMATCH'. */
  code: string;
  message: string;
  /** When it was detected, ms since the epoch. */
  detectedAt: number;
}

/**
 * The /status contract (region … lastError: exactly these fields, the edge router codes against them)
 * plus optional extras. Times are ms since the epoch unless the name says seconds.
 */
export interface TailerStatus extends StatusContract {
  state: TailerState;
  /**
   * The source's own opinion; the served `ready` is this AND the readiness rules (see `readiness`), so
   * /status and /readyz never disagree.
   */
  ready: boolean;

  /** Read position: just after the last transaction read in full (where a reconnect resumes). */
  position?: { file: string; position: number; gtid: string | null } | null;
  /** Committed transactions waiting for the sink. */
  pendingTransactions?: number;
  /** Reading paused by backpressure (state is then 'paused'). */
  readingPaused?: boolean;
  /** Running totals (events, transactions, keys, batches, reconnects, …); numbers only. */
  stats?: Readonly<Record<string, number>>;
  checkpoint?: { path: string; writtenAt: number | null } | null;
  gapPolicy?: GapPolicy;
  /** Non-null while a gap is unresolved (fail-closed: until an operator acts; flush: until flushed). */
  gap?: GapStatus | null;
  /**
   * The tailer failed because its setup was refused (preflight, login, TLS, checkpoint); lastError says
   * what to fix. Not retried, and a restart would meet the same refusal.
   */
  refused?: boolean;
  startedAt?: number;
  /** The consistency sampler's report (config `consistency`), when it runs. */
  consistency?: ConsistencyReport & { ignored?: number };
}

export type NotReadyReason =
  /** idle or connecting: not reading yet. */
  | 'starting'
  | 'stopped'
  | 'failed'
  | 'gap'
  /** Lag above the configured bound, or unknown while a bound is configured. */
  | 'lagging'
  /** The status source itself said ready: false. */
  | 'not-ready'
  /** The status source threw: nothing is known, so not ready. */
  | 'status-unavailable';

export type Readiness = { ready: true } | { ready: false; reason: NotReadyReason; message: string };

export interface ReadinessOptions {
  /**
   * Not ready while the lag is above this many seconds (or unknown). Off by default: with heartbeats
   * off, an idle primary makes the lag grow without anything being wrong. Set it to at most the edge's
   * recent-write window, so a tailer too far behind sends readers to the master.
   */
  maxLagSeconds?: number;
}

/**
 * Ready = invalidations are being applied: state 'streaming' (or 'paused' by backpressure, which is
 * reading that waits for the sink), no unresolved gap, lag within the bound if one is set, and the
 * source agrees. The edge router sends readers to the master while this is false (fail safe).
 */
export function readiness(status: TailerStatus, options: ReadinessOptions = {}): Readiness {
  const { state } = status;
  if (status.gap) {
    return notReady('gap', `${status.gap.code}: ${status.gap.message} (policy ${status.gap.policy})`);
  }
  if (state === 'failed') {
    return notReady('failed', status.lastError ? describe(status.lastError) : 'the tailer failed');
  }
  if (state === 'stopped') return notReady('stopped', 'the tailer is stopped');
  if (state === 'idle' || state === 'connecting') {
    const last = status.lastError ? ` (last error ${describe(status.lastError)})` : '';
    return notReady('starting', `the tailer is ${state}${last}`);
  }
  const max = options.maxLagSeconds;
  if (max !== undefined) {
    if (status.lagSeconds === null) return notReady('lagging', 'replication lag is unknown');
    if (status.lagSeconds > max) {
      return notReady('lagging', `replication lag ${status.lagSeconds} s is above ${max} s`);
    }
  }
  if (!status.ready) return notReady('not-ready', `the tailer reports not ready (state ${state})`);
  return { ready: true };
}

export type Liveness = { alive: true } | { alive: false; error: StatusError };

/**
 * Alive unless the loop has failed: then only a new process (fresh connection, config re-read, resume
 * from the checkpoint) can help, so the orchestrator should restart it. A failure caused by an
 * unresolved gap or a refused setup is the exception: a restart meets the same gap or refusal, so the
 * process stays "alive" to keep /status and /readyz explaining what an operator must do (readiness is
 * what sends traffic away).
 */
export function liveness(status: TailerStatus): Liveness {
  if (status.state !== 'failed' || status.gap || status.refused) return { alive: true };
  return {
    alive: false,
    error: status.lastError ?? { code: 'FAILED' satisfies ErrorCode, message: 'the tailer failed' },
  };
}

/** The /status JSON body: the contract fields (src/contracts/status.ts), then the extras. */
export interface StatusBody extends StatusContract {
  state: TailerState;
  notReady?: { reason: NotReadyReason; message: string };
  position?: { file: string; position: number; gtid: string | null } | null;
  pendingTransactions?: number;
  readingPaused?: boolean;
  stats?: Record<string, number>;
  checkpoint?: { path: string; writtenAt: number | null } | null;
  gapPolicy?: GapPolicy;
  gap?: GapStatus | null;
  refused?: boolean;
  startedAt?: number;
  consistency?: ConsistencyReport & { ignored?: number };
}

/**
 * Builds the body from an allow-list of fields, copying each value's known shape only: whatever else a
 * status source carries (a config object, an Error with its cause and stack) is never served.
 */
export function statusBody(status: TailerStatus, ready: Readiness): StatusBody {
  const body: StatusBody = {
    region: status.region,
    state: status.state,
    ready: ready.ready,
    watermark: status.watermark
      ? {
          gtid: status.watermark.gtid,
          file: status.watermark.file,
          position: status.watermark.position,
          updatedAt: status.watermark.updatedAt,
        }
      : null,
    lagSeconds: status.lagSeconds,
    lastError: status.lastError ? copyError(status.lastError) : null,
  };
  if (!ready.ready) body.notReady = { reason: ready.reason, message: ready.message };
  if (status.position !== undefined) {
    const p = status.position;
    body.position = p ? { file: p.file, position: p.position, gtid: p.gtid } : null;
  }
  if (status.pendingTransactions !== undefined) body.pendingTransactions = status.pendingTransactions;
  if (status.readingPaused !== undefined) body.readingPaused = status.readingPaused;
  if (status.stats !== undefined) {
    body.stats = {};
    for (const [name, value] of Object.entries(status.stats)) {
      if (typeof value === 'number') body.stats[name] = value;
    }
  }
  if (status.checkpoint !== undefined) {
    const c = status.checkpoint;
    body.checkpoint = c ? { path: c.path, writtenAt: c.writtenAt } : null;
  }
  if (status.gapPolicy !== undefined) body.gapPolicy = status.gapPolicy;
  if (status.gap !== undefined) {
    const g = status.gap;
    body.gap = g ? { policy: g.policy, code: g.code, message: g.message, detectedAt: g.detectedAt } : null;
  }
  if (status.refused !== undefined) body.refused = status.refused;
  if (status.startedAt !== undefined) body.startedAt = status.startedAt;
  if (status.consistency !== undefined) body.consistency = copyConsistency(status.consistency);
  return body;
}

function copyConsistency(c: ConsistencyReport & { ignored?: number }): StatusBody['consistency'] {
  const out: ConsistencyReport = {
    every: c.every,
    keysSeen: c.keysSeen,
    sampled: c.sampled,
    skipped: c.skipped,
    pending: c.pending,
    delays: c.delays.map((d) => ({
      delayMs: d.delayMs,
      checks: d.checks,
      consistent: d.consistent,
      stale: d.stale,
      errors: d.errors,
      within: { consistent: d.within.consistent, stale: d.within.stale, errors: d.within.errors },
      fraction: d.fraction,
    })),
  };
  if (c.ignored !== undefined) return { ...out, ignored: c.ignored };
  return out;
}

/** `{code, message}` of any thrown value, for a status source that keeps the last Error. */
export function statusError(err: unknown): StatusError {
  return { code: errorCodeOf(err), message: errorMessage(err) };
}

function copyError(e: StatusError): StatusError {
  return { code: e.code, message: e.message };
}

function describe(e: StatusError): string {
  return `${e.code}: ${e.message}`;
}

function notReady(reason: NotReadyReason, message: string): Readiness {
  return { ready: false, reason, message };
}
