/**
 * Groups binlog events into transactions and decides when a transaction's keys may be deleted: only
 * after its commit event (XID, or a COMMIT query) was read from the replica's own binlog — the replica
 * has then committed it. A statement outside a transaction (DDL, a standalone GTID group, a
 * non-transactional write without BEGIN) counts as committed right after its event.
 *
 * When in doubt the assembler delivers: a group that ends with ROLLBACK in the binlog is one that
 * changed non-transactional tables (those changes stay), and a group cut off by a new GTID is flushed.
 * An extra delete costs one cache miss; a missed one serves stale data until the TTL.
 */
import { lexOptionsFromSqlMode, type ExtractOptions, type LexOptions } from '../annotate/index.js';
import type { BinlogEvent } from '../binlog/index.js';
import type { CommittedTransaction } from '../sinks/sink.js';
import { OutboxDecoder, type OutboxOptions } from './outbox.js';
import type { KeySpill } from './spill.js';

/**
 * Extracts the valid keys a statement text carries (annotation grammar, src/annotate). `lex` says how
 * the server lexed the text (sql_mode NO_BACKSLASH_ESCAPES / ANSI_QUOTES), or that nothing says
 * (`sqlModeUnknown`: a MariaDB Annotate_rows).
 */
export type KeyExtractor = (sql: string, lex: ExtractOptions) => ExtractedKeys;

export interface ExtractedKeys {
  keys: readonly string[];
  /** The writer's `ts=` (ms since the epoch); the earliest when the text has several annotations. */
  writerTimeMs?: number | undefined;
}

interface OpenTransaction {
  gtid: string | undefined;
  /** true once BEGIN was seen: later statements belong to it until the commit event. */
  explicit: boolean;
  keys: Set<string>;
  writerTimeMs?: number | undefined;
  /** Where the keys go once there are more than `spill.thresholdKeys` of them. */
  spill?: KeySpill | undefined;
}

export interface AssemblerOptions {
  /** Spill an open transaction's keys to disk past this many, so memory stays bounded. */
  spill?: { thresholdKeys: number; create: () => KeySpill };
  /** Outbox mode: tables whose inserted rows carry keys too (./outbox.ts). */
  outbox?: OutboxOptions | undefined;
}

const MARIADB_GTID_FLAG_STANDALONE = 0x01;
const SQL_MODE_UNKNOWN: ExtractOptions = Object.freeze({ sqlModeUnknown: true });
const SQL_MODE_UNKNOWN_MYSQL: ExtractOptions = Object.freeze({ sqlModeUnknown: true, mysql: true });

function leadingWord(sql: string): string {
  const m = /^\s*([A-Za-z]+)(?:\s+([A-Za-z]+))?/.exec(sql);
  if (!m) return '';
  const first = (m[1] ?? '').toUpperCase();
  return first === 'XA' && m[2] ? `XA ${m[2].toUpperCase()}` : first;
}

/** Where an event starts: a cut-off group ends there, so a restart re-reads the event. */
function startOf(ev: BinlogEvent): number {
  return ev.header.nextPosition - ev.header.eventSize;
}

export class TransactionAssembler {
  private open: OpenTransaction | null = null;
  private file = '';
  /**
   * sql_mode of the open group's last QUERY event; null when the group has had none. Annotate_rows and
   * Rows_query events carry no sql_mode: in MySQL the BEGIN query before them does, but a MariaDB GTID
   * group has no BEGIN query. Unknown, the extractor takes only keys every sql_mode agrees on, so user
   * data can never be read as an annotation (ExtractOptions.sqlModeUnknown).
   */
  private lex: LexOptions | null = null;
  /** The binlog is MySQL's (its FORMAT_DESCRIPTION says so): its lexer has no slash-star-M-bang comments. */
  private mysql = false;
  private readonly outbox: OutboxDecoder | null;

  constructor(
    private readonly extract: KeyExtractor,
    private readonly options: AssemblerOptions = {},
  ) {
    const outbox = options.outbox;
    this.outbox = outbox && outbox.tables.length > 0 ? new OutboxDecoder(outbox) : null;
  }

  /** The binlog file the stream is in (from the last ROTATE). */
  get currentFile(): string {
    return this.file;
  }

  /** True while a transaction has begun and not committed: a restart must begin before it. */
  get inTransaction(): boolean {
    return this.open !== null;
  }

  /** Forgets a partly read transaction (the stream broke; it will be read again from its start). */
  reset(file: string): void {
    this.open?.spill?.discard();
    this.open = null;
    this.file = file;
    this.outbox?.reset();
  }

  /** Feeds one event; returns the transaction it committed, if any. */
  push(ev: BinlogEvent): CommittedTransaction | null {
    switch (ev.kind) {
      case 'rotate':
        this.file = ev.nextFile;
        return null;
      case 'mariadb_gtid': {
        const cut = this.open ? this.commit(ev, startOf(ev)) : null;
        this.lex = null;
        this.open = {
          gtid: ev.gtid,
          explicit: (ev.flags2 & MARIADB_GTID_FLAG_STANDALONE) === 0,
          keys: new Set(),
        };
        return cut;
      }
      case 'mysql_gtid': {
        const cut = this.open ? this.commit(ev, startOf(ev)) : null;
        this.lex = null;
        // A MySQL GTID group is a DDL (no BEGIN) or BEGIN … XID/COMMIT; BEGIN sets `explicit`.
        this.open = { gtid: ev.gtid, explicit: false, keys: new Set() };
        return cut;
      }
      case 'annotate_rows':
      case 'rows_query':
        this.addKeys(ev.sql);
        return null;
      case 'format_description':
        this.mysql = !ev.mariadb;
        this.outbox?.setFlavor(ev.mariadb);
        return null;
      case 'table_map':
        this.outbox?.tableMap(ev);
        return null;
      case 'write_rows':
      case 'update_rows':
      case 'delete_rows': {
        const found = this.outbox?.rows(ev);
        if (found) this.addExtracted(found.keys, found.writerTimeMs);
        return null;
      }
      case 'xid':
        return this.open ? this.commit(ev) : null;
      case 'query':
        return this.query(ev);
      default:
        return null;
    }
  }

  private query(ev: Extract<BinlogEvent, { kind: 'query' }>): CommittedTransaction | null {
    if (ev.statusVars.sqlMode !== undefined) {
      this.lex = { ...lexOptionsFromSqlMode(ev.statusVars.sqlMode), mysql: this.mysql };
    }
    const word = leadingWord(ev.sql);
    if (word === 'BEGIN' || word === 'XA START') {
      if (!this.open) this.open = { gtid: undefined, explicit: true, keys: new Set() };
      this.open.explicit = true;
      return null;
    }
    if (word === 'COMMIT' || word === 'ROLLBACK' || word === 'XA COMMIT' || word === 'XA ROLLBACK') {
      this.addKeys(ev.sql);
      return this.commit(ev);
    }
    this.addKeys(ev.sql);
    // Not inside BEGIN … COMMIT: the statement is its own transaction, committed with this event.
    return this.open?.explicit ? null : this.commit(ev);
  }

  private addKeys(sql: string): void {
    const lex = this.lex ?? (this.mysql ? SQL_MODE_UNKNOWN_MYSQL : SQL_MODE_UNKNOWN);
    const { keys, writerTimeMs } = this.extract(sql, lex);
    this.addExtracted(keys, writerTimeMs);
  }

  private addExtracted(keys: readonly string[], writerTimeMs: number | undefined): void {
    if (!this.open) this.open = { gtid: undefined, explicit: false, keys: new Set() };
    const open = this.open;
    if (open.spill) {
      for (const k of keys) open.spill.append(k);
    } else {
      for (const k of keys) open.keys.add(k);
      const spill = this.options.spill;
      if (spill && open.keys.size > spill.thresholdKeys) {
        open.spill = spill.create();
        for (const k of open.keys) open.spill.append(k);
        open.keys.clear();
      }
    }
    if (
      writerTimeMs !== undefined &&
      (this.open.writerTimeMs === undefined || writerTimeMs < this.open.writerTimeMs)
    ) {
      this.open.writerTimeMs = writerTimeMs;
    }
  }

  private commit(ev: BinlogEvent, nextPosition = ev.header.nextPosition): CommittedTransaction {
    const open = this.open ?? { gtid: undefined, explicit: false, keys: new Set<string>() };
    this.open = null;
    open.spill?.seal();
    return {
      gtid: open.gtid,
      file: this.file,
      nextPosition,
      serverId: ev.header.serverId,
      commitTimeMs: ev.header.timestamp * 1000,
      keys: [...open.keys],
      writerTimeMs: open.writerTimeMs,
      spilled: open.spill,
    };
  }
}
