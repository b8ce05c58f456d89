/**
 * Outbox mode, tailer side (DESIGN §1): where comments cannot reach the replica's binlog (a STATEMENT
 * primary behind a ROW replica, MySQL without binlog_rows_query_log_events), the writer inserts its keys
 * as rows of a small table in the same transaction (`cachetail_dirty_keys`, DDL in sql/cachetail-app.sql
 * and src/app/schema.ts). The rows reach the replica's binlog as TABLE_MAP + WRITE_ROWS events whatever
 * the primary's format, and this module turns them back into keys for the open transaction.
 *
 * Only inserts carry keys. Deletes (the cleanup job) and updates of the table are ignored: the insert
 * that declared a key is in the binlog already, and a cleanup must never cause deletes.
 *
 * The table's layout is fixed, read by position because MariaDB's default binlog_row_metadata (NO_LOG)
 * logs no column names:
 *   0 id          BIGINT UNSIGNED AUTO_INCREMENT
 *   1 cache_key   VARBINARY(250)      the key's UTF-8 bytes, not percent-encoded
 *   2 created_at  TIMESTAMP(3)        the writer's time (→ writerTimeMs, for end-to-end lag)
 * A table of another shape stops the tailer (OUTBOX_TABLE_SHAPE): guessing which column holds the key
 * could only produce wrong deletes or miss the right ones.
 */
import { MAX_KEY_BYTES, validateKey, type KeyRejectReason } from '../annotate/index.js';
import { describeKeyReason, utf8OrNull } from '../annotate/key.js';
import { ColumnType, decodeRows, StringValue } from '../binlog/index.js';
import type { RowsEvent, TableMapEvent } from '../binlog/index.js';
import { CachetailError } from '../errors.js';

export interface OutboxOptions {
  /** Outbox tables as `db.table`, matched case-insensitively (a near miss should still deliver). */
  tables: readonly string[];
  /** A row whose key memcached cannot hold (or that is not UTF-8): skipped, never deleted mangled. */
  onRejected?: (reason: KeyRejectReason, detail: string) => void;
}

export interface OutboxKeys {
  keys: string[];
  /** The earliest `created_at` of the rows, ms since the epoch. */
  writerTimeMs: number | undefined;
}

const KEY_COLUMN = 1;
const TIME_COLUMN = 2;

const KEY_TYPES = new Set<number>([
  ColumnType.VARCHAR,
  ColumnType.VAR_STRING,
  ColumnType.STRING,
  ColumnType.TINY_BLOB,
  ColumnType.BLOB,
  ColumnType.MEDIUM_BLOB,
  ColumnType.LONG_BLOB,
]);

const TIMESTAMP_TEXT = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?$/;

/** A decoded TIMESTAMP (UTC text) as epoch ms; undefined for the zero timestamp or anything odd. */
function timestampMs(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = TIMESTAMP_TEXT.exec(value);
  if (!m || m[1] === '0000') return undefined;
  const ms = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], ms);
}

export class OutboxDecoder {
  private readonly names: Set<string>;
  /** TABLE_MAPs of outbox tables by table id; a later map of another table under the id replaces it. */
  private readonly maps = new Map<number, TableMapEvent>();
  private flavor: 'mysql' | 'mariadb' = 'mysql';

  constructor(private readonly opts: OutboxOptions) {
    this.names = new Set(opts.tables.map((t) => t.toLowerCase()));
  }

  /** The FORMAT_DESCRIPTION says which server wrote the file (MariaDB counts YEAR as numeric). */
  setFlavor(mariadb: boolean): void {
    this.flavor = mariadb ? 'mariadb' : 'mysql';
  }

  reset(): void {
    this.maps.clear();
  }

  tableMap(ev: TableMapEvent): void {
    if (!this.names.has(`${ev.db}.${ev.table}`.toLowerCase())) {
      this.maps.delete(ev.tableId);
      return;
    }
    const keyType = ev.columnTypes[KEY_COLUMN];
    if (keyType === undefined || !KEY_TYPES.has(keyType)) {
      throw new CachetailError(
        'OUTBOX_TABLE_SHAPE',
        `outbox table ${ev.db}.${ev.table}: column ${KEY_COLUMN + 1} must be the VARBINARY cache_key ` +
          `(type code ${keyType ?? 'missing'}); recreate it from sql/cachetail-app.sql`,
      );
    }
    this.maps.set(ev.tableId, ev);
  }

  /** Keys of the rows an insert into an outbox table wrote; null for every other rows event. */
  rows(ev: RowsEvent): OutboxKeys | null {
    const map = this.maps.get(ev.tableId);
    if (!map || ev.kind !== 'write_rows') return null;
    const out: OutboxKeys = { keys: [], writerTimeMs: undefined };
    for (const change of decodeRows(ev, map, { flavor: this.flavor })) {
      const cell = change.after?.[KEY_COLUMN];
      if (!(cell instanceof StringValue)) {
        // NULL, or absent from a MINIMAL image: the row says a key is dirty and not which one.
        throw new CachetailError(
          'OUTBOX_ROW_WITHOUT_KEY',
          `outbox table ${map.db}.${map.table}: an inserted row has no cache_key (${cell === undefined ? 'not in the row image' : cell === null ? 'NULL' : 'not a string'})`,
        );
      }
      const key = this.key(cell.bytes);
      if (key !== null) out.keys.push(key);
      const ts = timestampMs(change.after?.[TIME_COLUMN]);
      if (ts !== undefined && (out.writerTimeMs === undefined || ts < out.writerTimeMs))
        out.writerTimeMs = ts;
    }
    return out;
  }

  private key(bytes: Buffer): string | null {
    const text = bytes.length > MAX_KEY_BYTES ? null : utf8OrNull(bytes);
    const reason =
      text === null ? (bytes.length > MAX_KEY_BYTES ? 'key-too-long' : 'invalid-utf8') : validateKey(text);
    if (reason === null) return text;
    this.opts.onRejected?.(reason, describeKeyReason(reason));
    return null;
  }
}
