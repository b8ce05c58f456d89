/**
 * What `cachetail replay` prints: with --dry-run each transaction of the range that has keys (a
 * `# <gtid> <file>:<start>` comment, then its keys one per line, so `grep -v '^#'` gives the keys
 * alone), and always a summary line at the end. With --json, one object per line with a `type`.
 */
import { jsonLine } from '../binlog/format/json.js';
import type { MemcachedSinkStats } from '../sinks/memcached/stats.js';
import type { TransactionReport } from './binlog-transactions.js';
import type { ReadCursor } from './replay-source.js';

export interface ReplaySummary {
  dryRun: boolean;
  /** Transactions read, in the range or not. */
  transactionsRead: number;
  inRange: number;
  /** Transactions of the range with at least one key. */
  withKeys: number;
  /** Keys of those transactions, summed per transaction (the sink de-duplicates within a batch). */
  keys: number;
  /** Annotations of the range the grammar rejected (never deleted; `cachetail binlog` shows them). */
  rejected: number;
  /** Transactions whose commit was not in what was read (not replayed, as the tailer would not yet). */
  incomplete: number;
  /** The first and last transaction of the range that were read: the range actually covered. */
  first: TransactionReport | undefined;
  last: TransactionReport | undefined;
  /** Where reading stopped. */
  readTo: ReadCursor;
  /** The sink's counters (deleted, not found, journaled…); undefined for a dry run. */
  sink: MemcachedSinkStats | undefined;
}

function where(t: TransactionReport): string {
  return `${t.file}:${t.startPosition ?? '-'}`;
}

/** `0-1-10 mysql-bin.000001:299`, or the position alone for a transaction without a GTID. */
function label(t: TransactionReport): string {
  return t.gtid === undefined ? where(t) : `${t.gtid} ${where(t)}`;
}

export function renderTransaction(t: TransactionReport, json: boolean): string[] {
  if (json) {
    return [
      jsonLine({
        type: 'transaction',
        gtid: t.gtid ?? null,
        file: t.file,
        startPosition: t.startPosition ?? null,
        endLogPos: t.endLogPos,
        commitTimeMs: t.commitTimeMs,
        keys: t.keys,
      }),
    ];
  }
  return [`# ${label(t)} ${new Date(t.commitTimeMs).toISOString()}`, ...t.keys];
}

function bound(t: TransactionReport | undefined): Record<string, unknown> | null {
  if (!t) return null;
  return {
    gtid: t.gtid ?? null,
    file: t.file,
    startPosition: t.startPosition ?? null,
    commitTimeMs: t.commitTimeMs,
  };
}

export function renderSummary(s: ReplaySummary, json: boolean): string {
  const sink = s.sink;
  if (json) {
    return jsonLine({
      type: 'summary',
      dryRun: s.dryRun,
      transactionsRead: s.transactionsRead,
      inRange: s.inRange,
      withKeys: s.withKeys,
      keys: s.keys,
      rejected: s.rejected,
      incomplete: s.incomplete,
      deleted: sink?.deleted ?? null,
      notFound: sink?.notFound ?? null,
      tombstoned: sink?.tombstoned ?? null,
      journaled: sink?.journaled ?? null,
      first: bound(s.first),
      last: bound(s.last),
      readTo: { file: s.readTo.file, position: s.readTo.position },
    });
  }
  const outcome = sink
    ? ` deleted ${sink.deleted} not_found ${sink.notFound}` +
      `${sink.tombstoned > 0 ? ` tombstoned ${sink.tombstoned}` : ''} journaled ${sink.journaled}`
    : ' dry_run';
  const covered = s.first && s.last ? ` first ${label(s.first)} last ${label(s.last)}` : ' first - last -';
  return (
    `# summary read ${s.transactionsRead} transactions up to ${s.readTo.file}:${s.readTo.position}` +
    ` in_range ${s.inRange} with_keys ${s.withKeys} keys ${s.keys}${outcome}` +
    `${s.rejected > 0 ? ` rejected ${s.rejected}` : ''}${s.incomplete > 0 ? ` incomplete ${s.incomplete}` : ''}` +
    covered
  );
}
