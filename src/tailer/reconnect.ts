// The reconnect loop's decisions (./tailer.ts): which ends are gaps, why a stream ended, how long to wait.
import { CachetailError, errorCodeOf, errorMessage, type ErrorCode } from '../errors.js';
import type { ReconnectReason } from '../observability/labels.js';

/** Codes that mean a gap: the binlog cannot be followed on from where we are (gapPolicy decides). */
const GAP_CODES: ReadonlySet<ErrorCode> = new Set([
  'BINLOG_UNAVAILABLE',
  'GAP_IDENTITY_CHANGED',
  'CHECKPOINT_CORRUPT',
]);

/** The `reason` label of cachetail_reconnects_total for how a stream ended. */
export function reconnectReason(err: Error | undefined): ReconnectReason {
  if (!err) return 'closed';
  if (err instanceof CachetailError) {
    if (err.code === 'REPLICATION_DEAD') return 'heartbeat-timeout';
    if (err.code === 'REPLICATION_SERVER_ERROR') return 'server-error';
    if (err.code === 'PREFLIGHT_FAILED') return 'preflight';
  }
  // node and mysql2 name a network failure in their own codes (ECONNRESET, PROTOCOL_CONNECTION_LOST).
  return /ECONN|EPIPE|ETIMEDOUT|PROTOCOL_CONNECTION_LOST|socket/i.test(`${errorCodeOf(err)} ${err.message}`)
    ? 'network'
    : 'other';
}

export function isGap(err: unknown): boolean {
  return err instanceof CachetailError && (GAP_CODES.has(err.code) || err.name === 'BinlogDecodeError');
}

/** Why the stream ended or a reconnect failed, for /status: mysql2's socket errors are plain Errors. */
export function reconnectError(err: unknown): CachetailError {
  return err instanceof CachetailError
    ? err
    : new CachetailError('REPLICATION_LOST', errorMessage(err), { cause: err });
}

/** Resolves after `ms`, or at once when `signal` aborts (already aborted: at once). */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
