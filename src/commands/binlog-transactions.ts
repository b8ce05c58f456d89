/**
 * The operator's "what would the tailer delete" view of a binlog: transactions with the keys their
 * annotations carry, committed at the same events as in the tailer. Commit decisions are the tailer's
 * own TransactionAssembler (not a copy of its rules); this only adds what an operator needs to see and
 * the tailer merely counts: the rejected annotations, and where each transaction starts.
 */
import { extractAnnotations, type Rejected } from '../annotate/index.js';
import type { BinlogEvent } from '../binlog/events/types.js';
import type { OutboxOptions } from '../tailer/outbox.js';
import { TransactionAssembler } from '../tailer/transactions.js';

export interface TransactionReport {
  file: string;
  gtid: string | undefined;
  /** Offset of the transaction's first event (its GTID event when it has one). */
  startPosition: number | undefined;
  /**
   * Offset of the event that committed it (XID, COMMIT, the statement itself). Undefined when the
   * transaction was cut off by the next GTID or by the end of the input.
   */
  commitPosition: number | undefined;
  /** Where a restart after this transaction resumes (the tailer's checkpoint position). */
  endLogPos: number;
  serverId: number;
  commitTimeMs: number;
  /** The writer's commit-time `ts=` from the annotations (earliest), when they carry one. */
  writerTimeMs: number | undefined;
  /** Valid keys, de-duplicated, in first-seen order: exactly what the tailer would delete. */
  keys: readonly string[];
  /** Annotations (or parts of them) the grammar rejected: never deleted, shown so they can be fixed. */
  rejected: Rejected[];
  /** The input ended before the commit event: the tailer would not have deleted these keys yet. */
  incomplete: boolean;
}

/** Events that open a transaction when none is open (everything else is file bookkeeping). */
const STATEMENT_KINDS = new Set<BinlogEvent['kind']>([
  'query',
  'annotate_rows',
  'rows_query',
  'table_map',
  'write_rows',
  'update_rows',
  'delete_rows',
  'intvar',
  'rand',
  'user_var',
  'xid',
]);

export class TransactionTracker {
  private readonly assembler: TransactionAssembler;
  private rejected: Rejected[] = [];
  private keys: string[] = [];
  private start: number | undefined;
  /** Earliest writer `ts=` of the open transaction's annotations (for an incomplete report). */
  private writerTimeMs: number | undefined;
  /** GTID of the open group (the assembler keeps its own; this one is for an incomplete report). */
  private gtid: string | undefined;

  /** `outbox`: the tailer config's outbox tables, whose inserted rows carry keys too (as in the tailer). */
  constructor(file: string, options: { outbox?: OutboxOptions | undefined } = {}) {
    // The tailer's own extractor (annotationExtractor) logs rejections and counts them; here they are
    // kept for the report instead.
    this.assembler = new TransactionAssembler((sql, lex) => {
      const result = extractAnnotations(sql, lex);
      this.rejected.push(...result.rejected);
      this.keys.push(...result.keys);
      let writerTimeMs: number | undefined;
      for (const a of result.annotations) {
        if (a.ts !== undefined && (writerTimeMs === undefined || a.ts < writerTimeMs)) writerTimeMs = a.ts;
      }
      if (writerTimeMs !== undefined && (this.writerTimeMs === undefined || writerTimeMs < this.writerTimeMs))
        this.writerTimeMs = writerTimeMs;
      return { keys: result.keys, writerTimeMs };
    }, options);
    this.assembler.reset(file);
  }

  /**
   * Feeds one event at `position`; returns the transaction it committed. Events inside a MySQL
   * TRANSACTION_PAYLOAD are pushed one by one with the payload event's position and end_log_pos.
   */
  push(position: number, ev: BinlogEvent): TransactionReport | null {
    const opensGroup = ev.kind === 'mariadb_gtid' || ev.kind === 'mysql_gtid';
    const previousStart = this.start;
    if (opensGroup) {
      this.start = position;
      this.gtid = ev.gtid;
    } else if (this.start === undefined && STATEMENT_KINDS.has(ev.kind)) this.start = position;
    const txn = this.assembler.push(ev);
    if (txn === null) return null;
    // A GTID that cuts off an open group commits the group before it and starts its own.
    const report: TransactionReport = {
      file: txn.file,
      gtid: txn.gtid,
      startPosition: opensGroup ? previousStart : this.start,
      commitPosition: opensGroup ? undefined : position,
      endLogPos: txn.nextPosition,
      serverId: txn.serverId,
      commitTimeMs: txn.commitTimeMs,
      writerTimeMs: txn.writerTimeMs,
      keys: txn.keys,
      rejected: this.rejected,
      incomplete: false,
    };
    this.rejected = [];
    this.keys = [];
    this.writerTimeMs = undefined;
    if (!opensGroup) {
      this.start = undefined;
      this.gtid = undefined;
    }
    return report;
  }

  /**
   * The transaction still open at the end of the input, if any (its keys are not deleted yet). `last`
   * is the last event read and where it ends in the file: its header's end_log_pos cannot say, since
   * MariaDB 11.4+ writes 0 there for the events inside a transaction group.
   */
  finish(last: { event: BinlogEvent; end: number } | undefined): TransactionReport | null {
    if (!this.assembler.inTransaction && this.keys.length === 0 && this.rejected.length === 0) return null;
    const lastEvent = last?.event;
    const report: TransactionReport = {
      file: this.assembler.currentFile,
      gtid: this.gtid,
      startPosition: this.start,
      commitPosition: undefined,
      endLogPos: last?.end ?? 0,
      serverId: lastEvent?.header.serverId ?? 0,
      commitTimeMs: (lastEvent?.header.timestamp ?? 0) * 1000,
      writerTimeMs: this.writerTimeMs,
      keys: [...new Set(this.keys)],
      rejected: this.rejected,
      incomplete: true,
    };
    this.rejected = [];
    this.keys = [];
    this.start = undefined;
    this.gtid = undefined;
    this.writerTimeMs = undefined;
    return report;
  }
}
