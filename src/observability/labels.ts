/**
 * The fixed label values of the tailer's metrics and status. Every label takes its values from a closed
 * list (or from configuration, for memcached servers), so the number of time series stays bounded
 * whatever the binlog or the annotations contain: a value outside the list is recorded as `other`.
 */
import type { RejectReason } from '../annotate/grammar.js';

/** Recorded when a runtime value is not in a label's list (kept out of the time-series count). */
export const OTHER = 'other';

/**
 * The tailer's lifecycle. `paused` means reading is paused by backpressure (the sink lags) and is
 * still ready; every other kind of stop is `stopped` or `failed`.
 */
export const TAILER_STATES = ['idle', 'connecting', 'streaming', 'paused', 'failed', 'stopped'] as const;
export type TailerState = (typeof TAILER_STATES)[number];

/** What happened to one key handed to the sink. */
export const INVALIDATION_RESULTS = ['deleted', 'not_found', 'tombstoned', 'journaled'] as const;
export type InvalidationResult = (typeof INVALIDATION_RESULTS)[number];

/** Why the replication connection was opened again. */
export const RECONNECT_REASONS = [
  /** The server ended the stream (replica restart, KILL, shutdown). */
  'closed',
  /** Socket error or connect timeout. */
  'network',
  /** No event and no heartbeat within the configured bound: the link is presumed dead. */
  'heartbeat-timeout',
  /** An error packet from the server that a retry can fix. */
  'server-error',
  /** A preflight check failed on reconnect and is retried. */
  'preflight',
  OTHER,
] as const;
export type ReconnectReason = (typeof RECONNECT_REASONS)[number];

/** What the tailer does when the binlog cannot be followed without losing events. */
export const GAP_POLICIES = ['fail-closed', 'flush'] as const;
export type GapPolicy = (typeof GAP_POLICIES)[number];

/**
 * Annotation rejection reasons, from the grammar (docs/annotation-grammar.md). Listed here only so
 * each series exists at 0 from the start; a reason added to the grammar later still records (lazily).
 */
export const REJECT_REASONS = [
  'bad-escape',
  'empty-key',
  'key-too-long',
  'forbidden-byte',
  'invalid-utf8',
  'missing-keylist',
  'keylist-whitespace',
  'malformed-field',
  'bad-field-value',
  'duplicate-field',
  'unknown-field',
  'unsupported-version',
  'unterminated',
  'line-comment',
  'ambiguous-sql-mode',
] as const satisfies readonly RejectReason[];

export type { RejectReason };

/**
 * A memcached server as it may appear in a label: host:port only. Anything before an `@` (SASL
 * credentials in memjs's `user:pass@host:port` form) is dropped so it never reaches a scrape.
 */
export function serverLabel(server: string): string {
  const at = server.lastIndexOf('@');
  return at === -1 ? server : server.slice(at + 1);
}
