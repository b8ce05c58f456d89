/**
 * Text rendering of decoded events for `cachetail binlog`: one line per event, shaped like the
 * `# at N` / `end_log_pos M` pair mariadb-binlog prints so the two can be read side by side, followed
 * by the fields an operator looks for. Strings are JSON-quoted so a statement with newlines or binary
 * bytes still takes exactly one line (grep and diff keep working).
 */
import { eventTypeName } from '../constants.js';
import type { BinlogEvent, EventHeader, MariadbGtidEvent, TableMapEvent } from '../events/types.js';

/** A JSON-quoted string: escapes newlines, quotes and control characters. */
export function quote(s: string): string {
  return JSON.stringify(s);
}

/** UTC `YYYY-MM-DD HH:MM:SS` of a header timestamp. */
export function formatTimestamp(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** `# at 379 end_log_pos 421 server_id 101 2026-11-21 06:18:46 MARIA_GTID` — the common prefix. */
export function formatHeaderPrefix(position: number, header: EventHeader): string {
  return (
    `# at ${position} end_log_pos ${header.nextPosition} server_id ${header.serverId} ` +
    `${formatTimestamp(header.timestamp)} ${eventTypeName(header.typeCode)}`
  );
}

// MariaDB GTID flags2 bits (sql/log_event.h), named as mariadb-binlog prints them where it does.
const GTID_FLAGS: [number, string][] = [
  [0x01, 'standalone'],
  [0x04, 'trans'],
  [0x08, 'allow_parallel'],
  [0x10, 'waited'],
  [0x20, 'ddl'],
  [0x40, 'prepared_xa'],
  [0x80, 'completed_xa'],
];

function mariadbGtidDetails(ev: MariadbGtidEvent): string {
  const parts = [ev.gtid];
  for (const [bit, name] of GTID_FLAGS) if ((ev.flags2 & bit) !== 0) parts.push(name);
  if (ev.commitId !== undefined) parts.push(`cid=${ev.commitId}`);
  return parts.join(' ');
}

/** `` `db`.`table` `` as mariadb-binlog writes table names. */
export function tableName(map: Pick<TableMapEvent, 'db' | 'table'>): string {
  return `\`${map.db}\`.\`${map.table}\``;
}

/** What the text line needs beyond the event: the table map of a rows event, its row count if known. */
export interface EventLineContext {
  tableMap?: TableMapEvent | undefined;
  /** Rows in a rows event, when the row images were decoded. */
  rowCount?: number | undefined;
}

/** The fields after the type name, per event kind. */
export function formatEventDetails(ev: BinlogEvent, ctx: EventLineContext = {}): string {
  switch (ev.kind) {
    case 'format_description':
      return `binlog_version ${ev.binlogVersion} server_version ${quote(ev.serverVersion)} checksum ${ev.checksum}`;
    case 'rotate':
      return `next_file ${quote(ev.nextFile)} position ${ev.position}${ev.artificial ? ' artificial' : ''}`;
    case 'stop':
      return '';
    case 'query':
      return (
        `thread_id ${ev.threadId} exec_time ${ev.execTime} error_code ${ev.errorCode}` +
        `${ev.db === '' ? '' : ` db ${quote(ev.db)}`}${ev.compressed ? ' compressed' : ''} sql ${quote(ev.sql)}`
      );
    case 'xid':
      return `xid ${ev.xid}`;
    case 'mariadb_gtid':
      return mariadbGtidDetails(ev);
    case 'mariadb_gtid_list':
      return `[${ev.gtids.map((g) => `${g.domainId}-${g.serverId}-${g.seqNo}`).join(',')}]`;
    case 'binlog_checkpoint':
      return `file ${quote(ev.file)}`;
    case 'annotate_rows':
    case 'rows_query':
      return `sql ${quote(ev.sql)}`;
    case 'table_map':
      return `table_id ${ev.tableId} ${tableName(ev)} columns ${ev.columnCount}`;
    case 'write_rows':
    case 'update_rows':
    case 'delete_rows': {
      const table = ctx.tableMap ? ` ${tableName(ctx.tableMap)}` : ' (no table map)';
      const rows = ctx.rowCount === undefined ? ` row_bytes ${ev.rows.length}` : ` rows ${ctx.rowCount}`;
      return (
        `table_id ${ev.tableId}${table}${rows}${ev.stmtEnd ? ' STMT_END' : ''}` +
        `${ev.compressed ? ' compressed' : ''}`
      );
    }
    case 'heartbeat':
      return `file ${quote(ev.file)} position ${ev.position}`;
    case 'mysql_gtid':
      return (
        `${ev.gtid}` +
        `${ev.lastCommitted === undefined ? '' : ` last_committed ${ev.lastCommitted}`}` +
        `${ev.sequenceNumber === undefined ? '' : ` sequence_number ${ev.sequenceNumber}`}` +
        `${ev.transactionLength === undefined ? '' : ` transaction_length ${ev.transactionLength}`}`
      );
    case 'previous_gtids':
      return quote(ev.gtidSet);
    case 'intvar':
      return `${ev.intvarType === 1 ? 'LAST_INSERT_ID' : 'INSERT_ID'}=${ev.value}`;
    case 'rand':
      return `seed1 ${ev.seed1} seed2 ${ev.seed2}`;
    case 'user_var':
      return `@${quote(ev.name)}${ev.isNull || ev.value === undefined ? ' NULL' : ` type ${ev.valueType} value 0x${hex(ev.value)}`}`;
    case 'incident':
      return `incident ${ev.incident} message ${quote(ev.message)}`;
    case 'transaction_payload':
      return (
        `compression ${ev.compressionType === 0 ? 'zstd' : ev.compressionType === 255 ? 'none' : ev.compressionType}` +
        ` compressed_size ${ev.compressedSize} uncompressed_size ${ev.uncompressedSize}`
      );
    case 'unknown':
      return `type_code ${ev.typeCode} body_bytes ${ev.body.length}`;
  }
}

/** The whole line of an event. */
export function formatEventLine(position: number, ev: BinlogEvent, ctx: EventLineContext = {}): string {
  const details = formatEventDetails(ev, ctx);
  return details === ''
    ? formatHeaderPrefix(position, ev.header)
    : `${formatHeaderPrefix(position, ev.header)} ${details}`;
}
