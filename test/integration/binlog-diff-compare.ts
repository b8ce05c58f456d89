/**
 * Event-by-event comparison of our decoding of one binlog file with the server's own tool on the same
 * file: `mariadb-binlog -vv` (MariaDB, parsed by mariadb-binlog-dump.ts) or `mysqlbinlog -vv` (MySQL,
 * mysqlbinlog-dump.ts). Returns every disagreement as a line (the test asserts the list is empty),
 * what was compared (so a test cannot pass by comparing nothing), and the values the tool could not
 * print at all (mysqlbinlog and GEOMETRY), which the caller must check some other way.
 *
 * Both tools print the rows of a statement after its last rows event (STMT_END); mariadb-binlog adds
 * `# Number of rows: N` for the whole statement. Rows are compared per statement for that reason.
 *
 * Positions: `# at` must be where the event starts in the file, and the printed end_log_pos the
 * event's header value. That header value must be the event's end in the file — except where the
 * server writes 0 (MariaDB 11.4+ inside a transaction group, pitfall 9), counted per type in
 * `zeroEndLogPos` so that a test can say exactly where that is allowed. Events inside a MySQL
 * TRANSACTION_PAYLOAD have no position of their own: mysqlbinlog prints the payload's end for both.
 */
import { inflateRawSync, inflateSync } from 'node:zlib';
import { eventTypeName } from '../../src/binlog/constants.js';
import type { BinlogEvent, RowsEvent, TableMapEvent } from '../../src/binlog/events/types.js';
import { ColumnType } from '../../src/binlog/events/table-map.js';
import { tablePlan } from '../../src/binlog/rows/columns.js';
import { decodeRows } from '../../src/binlog/rows/decode.js';
import { StringValue, type ColumnValue, type Row, type RowChange } from '../../src/binlog/rows/values.js';
import type { Dump, DumpEvent } from '../unit/binlog/mariadb-binlog-dump.js';
import { jsonDiffMismatch, jsonDocumentMismatch } from './binlog-dump-json.js';
import { dumpValue, type ToolFlavor } from './binlog-dump-values.js';

export interface DecodedEvent {
  /** Where the event starts in the file; for an event inside a TRANSACTION_PAYLOAD, the payload's. */
  position: number;
  event: BinlogEvent;
  /** Set for an event inside a TRANSACTION_PAYLOAD: the payload event's end in the file. */
  payloadEnd?: number;
}

export interface Compared {
  events: number;
  gtids: number;
  queries: number;
  /** MariaDB Annotate_rows and MySQL Rows_query texts. */
  annotations: number;
  tableMaps: number;
  rowsEvents: number;
  statements: number;
  rows: number;
  /** Rows whose printed columns were checked against the TABLE_MAP's column count. */
  columnCounts: number;
  values: number;
  /** Events inside MySQL TRANSACTION_PAYLOAD events. */
  innerEvents: number;
  /** Events per type name (ours, which agreed with the tool's type where compared). */
  types: Record<string, number>;
  /** Events whose header end_log_pos is 0 (not their end in the file), per type name. */
  zeroEndLogPos: Record<string, number>;
}

/** Row values the tool could not print (mysqlbinlog stops a rows event's output at a GEOMETRY). */
export interface ToolGap {
  file: string;
  position: number;
  table: string;
  /** 1-based row of the rows event where printing stopped, and the rows of the event from it on. */
  row: number;
  rowsLeft: number;
  /** 1-based column the tool stopped at, and its type. */
  column: number;
  type: number;
}

export function emptyCompared(): Compared {
  return {
    events: 0,
    gtids: 0,
    queries: 0,
    annotations: 0,
    tableMaps: 0,
    rowsEvents: 0,
    statements: 0,
    rows: 0,
    columnCounts: 0,
    values: 0,
    innerEvents: 0,
    types: {},
    zeroEndLogPos: {},
  };
}

export function sumCompared(a: Compared, b: Compared): Compared {
  const add = (x: Record<string, number>, y: Record<string, number>): Record<string, number> => {
    const out = { ...x };
    for (const [k, v] of Object.entries(y)) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  return {
    events: a.events + b.events,
    gtids: a.gtids + b.gtids,
    queries: a.queries + b.queries,
    annotations: a.annotations + b.annotations,
    tableMaps: a.tableMaps + b.tableMaps,
    rowsEvents: a.rowsEvents + b.rowsEvents,
    statements: a.statements + b.statements,
    rows: a.rows + b.rows,
    columnCounts: a.columnCounts + b.columnCounts,
    values: a.values + b.values,
    innerEvents: a.innerEvents + b.innerEvents,
    types: add(a.types, b.types),
    zeroEndLogPos: add(a.zeroEndLogPos, b.zeroEndLogPos),
  };
}

/** Our text as the bytes the tool wrote, in a latin1 string (the dump is read as latin1). */
const asDumpText = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

/** A value the tool printed; `stop` when it gave up on the column (and the rest of the rows event). */
interface DumpValue {
  column: number;
  text: string;
  stop?: number;
}

interface DumpRow {
  /** `### INSERT INTO`, `### UPDATE`, `### DELETE FROM` */
  verb: string;
  table: string;
  /** The `@N=` values in printed order (WHERE image, then SET image). */
  values: DumpValue[];
}

const ROW_HEAD = /^### (INSERT INTO|UPDATE|DELETE FROM) `(.*)`\.`(.*)`$/;
const ROW_VALUE = /^### {3}@(\d+)=(.*) \/\* ([^\n]*) meta=(\d+) nullable=\d is_null=\d \*\/$/s;
const ROW_STOP = /^### {3}@(\d+)=!! Don't know how to handle column type=(\d+) meta=\d+ \([0-9a-f]+\)$/;
/** mysqlbinlog continues a partial JSON update on lines of their own (print_json_diff). */
const CONTINUATION = '###      ';

function dumpRows(body: string[]): { rows: DumpRow[]; count: number | undefined } {
  const rows: DumpRow[] = [];
  let count: number | undefined;
  const lines: string[] = [];
  for (const line of body) {
    const prev = lines.length - 1;
    if (line.startsWith(CONTINUATION) && prev >= 0 && lines[prev].startsWith('###   @'))
      lines[prev] += `\n${line}`;
    else lines.push(line);
  }
  for (const line of lines) {
    const head = ROW_HEAD.exec(line);
    if (head) {
      rows.push({ verb: head[1] ?? '', table: `${head[2]}.${head[3]}`, values: [] });
      continue;
    }
    const stop = ROW_STOP.exec(line);
    if (stop) {
      rows.at(-1)?.values.push({ column: Number(stop[1]), text: '', stop: Number(stop[2]) });
      continue;
    }
    const v = ROW_VALUE.exec(line);
    if (v) {
      // FLOAT is printed with %-20g: padded on the right.
      const text = v[3] === 'FLOAT' ? (v[2] ?? '').trimEnd() : (v[2] ?? '');
      rows.at(-1)?.values.push({ column: Number(v[1]), text });
      continue;
    }
    const n = /^# Number of rows: (\d+)$/.exec(line);
    if (n) count = Number(n[1]);
  }
  return { rows, count };
}

const VERB: Record<RowsEvent['kind'], string> = {
  write_rows: 'INSERT INTO',
  update_rows: 'UPDATE',
  delete_rows: 'DELETE FROM',
};

/** The bytes inside mariadb-binlog's `'…'`: every byte raw except \xNN (see quoteBytes). */
function unquoteMariadb(latin1: string): Buffer {
  const s = latin1.slice(1, -1);
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    // mariadb-binlog does not escape a backslash itself, so `\x41` could also be four raw bytes; a
    // compressed stream holding exactly that is possible in theory, and would show as a mismatch.
    if (s[i] === '\\' && s[i + 1] === 'x' && /^[0-9a-f]{2}$/.test(s.slice(i + 2, i + 4))) {
      out.push(parseInt(s.slice(i + 2, i + 4), 16));
      i += 3;
    } else out.push(s.charCodeAt(i));
  }
  return Buffer.from(out);
}

/**
 * A MariaDB compressed column as stored (sql/field_comp.cc): header 0 = the bytes follow as they are;
 * else 0x80 | 8 (raw deflate) | n, the length in n bytes big-endian, a deflate stream.
 */
function inflateMariadbColumn(stored: Buffer): Buffer {
  if (stored.length === 0 || stored[0] === 0) return stored.subarray(1);
  const n = stored[0] & 7;
  const data = stored.subarray(1 + n);
  return (stored[0] & 8) !== 0 ? inflateRawSync(data) : inflateSync(data);
}

/** Why our value of one column differs from what the tool printed, or undefined when it does not. */
function valueMismatch(
  value: ColumnValue,
  col: ReturnType<typeof tablePlan>['columns'][number],
  meta: number,
  column: number,
  printed: string,
  flavor: ToolFlavor,
): { ours: string; why: string } | undefined {
  if (value !== null && value !== undefined) {
    if (flavor === 'mysql' && col.type === ColumnType.JSON && typeof value === 'object' && 'kind' in value) {
      const why =
        value.kind === 'json'
          ? jsonDocumentMismatch(value.value, printed)
          : value.kind === 'json_diff'
            ? jsonDiffMismatch(value.diffs, column, printed)
            : `not JSON: ${value.kind}`;
      return why === undefined ? undefined : { ours: JSON.stringify(value, bigints), why };
    }
    if (
      flavor === 'mariadb' &&
      (col.type === ColumnType.VARCHAR_COMPRESSED || col.type === ColumnType.BLOB_COMPRESSED) &&
      value instanceof StringValue
    ) {
      // mariadb-binlog prints the stored (compressed) bytes; we return them inflated.
      let inflated: Buffer | string;
      try {
        inflated = inflateMariadbColumn(unquoteMariadb(printed));
      } catch (err) {
        inflated = String(err);
      }
      return Buffer.isBuffer(inflated) && inflated.equals(value.bytes)
        ? undefined
        : {
            ours: value.bytes.toString('latin1'),
            why: `inflated tool bytes: ${inflated.toString('latin1')}`,
          };
    }
  }
  const ours = dumpValue(value, col, meta, flavor);
  return ours === printed ? undefined : { ours, why: '' };
}

/**
 * A Rows_query text as mysqlbinlog 9.7 prints it, each line behind `# ` (checked byte by byte on
 * 9.7.4): backspace, tab, carriage return and the backslash escaped as `\b` `\t` `\r` `\\`, every
 * other byte raw; the parser (mysqlbinlog-dump.ts) joins the lines with `\n` again.
 */
function rowsQueryText(latin1: string): string {
  const escapes: Record<string, string> = { '\b': '\\b', '\t': '\\t', '\r': '\\r', '\\': '\\\\' };
  return latin1.replace(/[\b\t\r\\]/g, (c) => escapes[c] ?? c);
}

const bigints = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? String(v) : v);

export interface CompareResult {
  mismatches: string[];
  compared: Compared;
  gaps: ToolGap[];
}

export function compareWithDump(
  file: string,
  ours: DecodedEvent[],
  dump: Dump,
  flavor: ToolFlavor,
): CompareResult {
  const tool = flavor === 'mysql' ? 'mysqlbinlog' : 'mariadb-binlog';
  const mismatches: string[] = [];
  const gaps: ToolGap[] = [];
  const compared = emptyCompared();
  const miss = (at: number, what: string, got: unknown, want: unknown): void => {
    const show = (v: unknown): string => {
      const s = typeof v === 'string' ? v : JSON.stringify(v, bigints);
      return s.length > 300 ? `${s.slice(0, 300)}… (${s.length} chars)` : s;
    };
    mismatches.push(`${file} @${at} ${what}: ours ${show(got)} ${tool} ${show(want)}`);
  };
  if (!dump.complete || dump.exitCode !== 0)
    mismatches.push(`${file}: ${tool} did not finish (rc ${dump.exitCode}: ${dump.stderr.join(' ')})`);
  if (ours.length !== dump.events.length) miss(0, 'event count', ours.length, dump.events.length);
  if (dump.at.length !== dump.events.length)
    miss(0, '`# at` lines vs events', dump.at.length, dump.events.length);

  const maps = new Map<number, TableMapEvent>();
  let statement: StatementRows[] = [];
  const n = Math.min(ours.length, dump.events.length);
  for (let i = 0; i < n; i++) {
    const { position, event, payloadEnd } = ours[i];
    const want = dump.events[i];
    const h = event.header;
    const type = eventTypeName(h.typeCode);
    compared.events++;
    compared.types[type] = (compared.types[type] ?? 0) + 1;
    if (!want.typeCodes.includes(h.typeCode))
      miss(
        position,
        'type',
        `${type} (${h.typeCode})`,
        `${want.description} ${JSON.stringify(want.typeCodes)}`,
      );
    if (h.serverId !== want.serverId) miss(position, 'server id', h.serverId, want.serverId);
    if (payloadEnd !== undefined) {
      compared.innerEvents++;
      if (!want.inPayload) miss(position, 'inside a transaction payload', true, false);
      if (dump.at[i] !== payloadEnd) miss(position, 'position (payload end)', payloadEnd, dump.at[i]);
      if (want.endLogPos !== payloadEnd)
        miss(position, 'end_log_pos (payload end)', payloadEnd, want.endLogPos);
    } else {
      if (want.inPayload) miss(position, 'inside a transaction payload', false, true);
      if (dump.at[i] !== position) miss(position, 'position', position, dump.at[i]);
      if (h.nextPosition !== want.endLogPos) miss(position, 'end_log_pos', h.nextPosition, want.endLogPos);
      if (h.nextPosition === 0) compared.zeroEndLogPos[type] = (compared.zeroEndLogPos[type] ?? 0) + 1;
      else if (h.nextPosition !== position + h.eventSize)
        miss(position, 'end_log_pos vs end in the file', h.nextPosition, position + h.eventSize);
    }
    switch (event.kind) {
      case 'mariadb_gtid':
      case 'mysql_gtid':
        compared.gtids++;
        if (event.gtid !== want.gtid) miss(position, 'GTID', event.gtid, want.gtid);
        break;
      case 'mariadb_gtid_list': {
        const got = event.gtids.map((g) => `${g.domainId}-${g.serverId}-${g.seqNo}`);
        if (JSON.stringify(got) !== JSON.stringify(want.gtidList))
          miss(position, 'GTID list', got, want.gtidList);
        break;
      }
      case 'previous_gtids':
        if (event.gtidSet !== want.previousGtids)
          miss(position, 'previous GTIDs', event.gtidSet, want.previousGtids);
        break;
      case 'binlog_checkpoint':
        if (event.file !== want.checkpoint) miss(position, 'checkpoint', event.file, want.checkpoint);
        break;
      case 'query': {
        compared.queries++;
        const q = want.query;
        // MariaDB prints its Q_XID status variable; MySQL the XID a DDL was logged with.
        const xid = flavor === 'mysql' ? event.statusVars.ddlLoggedWithXid : event.statusVars.xid;
        const got = {
          sql: asDumpText(event.sql),
          threadId: event.threadId,
          errorCode: event.errorCode,
          xid: xid ?? 0n,
        };
        const exp = q && { sql: q.sql, threadId: q.threadId, errorCode: q.errorCode, xid: q.xid };
        if (
          !exp ||
          got.sql !== exp.sql ||
          got.threadId !== exp.threadId ||
          got.errorCode !== exp.errorCode ||
          got.xid !== exp.xid
        )
          miss(position, 'query', got, exp);
        break;
      }
      case 'annotate_rows':
        compared.annotations++;
        if (asDumpText(event.sql) !== want.annotate)
          miss(position, 'annotate text', event.sql, want.annotate);
        break;
      case 'rows_query': {
        compared.annotations++;
        const got = rowsQueryText(asDumpText(event.sql));
        if (got !== want.rowsQuery) miss(position, 'rows_query text', got, want.rowsQuery);
        break;
      }
      case 'transaction_payload': {
        const got = {
          payloadSize: event.compressedSize,
          compression:
            event.compressionType === 0
              ? 'ZSTD'
              : event.compressionType === 255
                ? 'NONE'
                : String(event.compressionType),
          uncompressedSize: event.uncompressedSize,
        };
        if (JSON.stringify(got) !== JSON.stringify(want.payload))
          miss(position, 'transaction payload', got, want.payload);
        break;
      }
      case 'xid':
        if (event.xid !== want.xid) miss(position, 'xid', event.xid, want.xid);
        break;
      case 'intvar': {
        const got = { name: event.intvarType === 1 ? 'LAST_INSERT_ID' : 'INSERT_ID', value: event.value };
        if (JSON.stringify(got, bigints) !== JSON.stringify(want.intvar, bigints))
          miss(position, 'intvar', got, want.intvar);
        break;
      }
      case 'rand': {
        const got = { seed1: event.seed1, seed2: event.seed2 };
        if (JSON.stringify(got, bigints) !== JSON.stringify(want.rand, bigints))
          miss(position, 'rand', got, want.rand);
        break;
      }
      case 'user_var': {
        const got = { name: event.name, isNull: event.isNull };
        if (JSON.stringify(got) !== JSON.stringify(want.userVar))
          miss(position, 'user_var', got, want.userVar);
        break;
      }
      case 'rotate':
        if (
          JSON.stringify({ nextFile: event.nextFile, position: event.position }) !==
          JSON.stringify(want.rotate)
        )
          miss(position, 'rotate', event, want.rotate);
        break;
      case 'table_map': {
        compared.tableMaps++;
        maps.set(event.tableId, event);
        const got = { db: event.db, table: event.table, tableId: event.tableId };
        if (JSON.stringify(got) !== JSON.stringify(want.tableMap))
          miss(position, 'table map', got, want.tableMap);
        break;
      }
      case 'write_rows':
      case 'update_rows':
      case 'delete_rows': {
        compared.rowsEvents++;
        if (JSON.stringify({ tableId: event.tableId, stmtEnd: event.stmtEnd }) !== JSON.stringify(want.rows))
          miss(position, 'rows header', { tableId: event.tableId, stmtEnd: event.stmtEnd }, want.rows);
        const map = maps.get(event.tableId);
        if (!map) {
          miss(position, 'rows without table map', event.tableId, undefined);
          break;
        }
        try {
          statement.push({ event, map, rows: decodeRows(event, map, { flavor }) });
        } catch (err) {
          miss(position, 'row decoding', String(err), 'rows');
        }
        if (event.stmtEnd) {
          compareStatement({ file, position, statement, want, miss, compared, gaps, flavor });
          statement = [];
        }
        break;
      }
      default:
        break;
    }
  }
  return { mismatches, compared, gaps };
}

interface StatementRows {
  event: RowsEvent;
  map: TableMapEvent;
  rows: RowChange[];
}

function imageValues(row: Row | undefined): { column: number; value: ColumnValue }[] {
  if (!row) return [];
  const out: { column: number; value: ColumnValue }[] = [];
  row.forEach((value, i) => {
    if (value !== undefined) out.push({ column: i + 1, value });
  });
  return out;
}

/** One statement's rows (all its rows events) against what the tool printed at its STMT_END. */
function compareStatement(args: {
  file: string;
  position: number;
  statement: StatementRows[];
  want: DumpEvent;
  miss: (at: number, what: string, got: unknown, want: unknown) => void;
  compared: Compared;
  gaps: ToolGap[];
  flavor: ToolFlavor;
}): void {
  const { file, position, statement, want, miss, compared, gaps, flavor } = args;
  compared.statements++;
  const printed = dumpRows(want.body);
  const total = statement.reduce((sum, s) => sum + s.rows.length, 0);
  const stopped = printed.rows.some((r) => r.values.some((v) => v.stop !== undefined));
  // mariadb-binlog counts the statement's rows; mysqlbinlog does not (and may stop early, see below).
  if (printed.count !== undefined) {
    if (total !== printed.count) miss(position, 'rows in statement (# Number of rows)', total, printed.count);
    if (printed.rows.length !== printed.count)
      miss(position, 'printed rows vs # Number of rows', printed.rows.length, printed.count);
  } else if (!stopped && printed.rows.length !== total)
    miss(position, 'printed rows', total, printed.rows.length);
  // Each rows event's rows, in order, against the printed rows in order.
  let r = 0;
  for (const { event: ev, map, rows } of statement) {
    const plan = tablePlan(map).columns;
    const table = `${map.db}.${map.table}`;
    for (let k = 0; k < rows.length; k++) {
      const change = rows[k];
      const p = printed.rows[r++];
      compared.rows++;
      if (!p || p.verb !== VERB[ev.kind] || p.table !== table) {
        miss(position, `row ${r} head`, `${VERB[ev.kind]} ${table}`, p && `${p.verb} ${p.table}`);
        continue;
      }
      const ours = [...imageValues(change.before), ...imageValues(change.after)];
      let stop: number | undefined;
      for (let j = 0; j < ours.length; j++) {
        const { column, value } = ours[j];
        const pv = p.values[j];
        if (pv?.stop !== undefined) {
          // mysqlbinlog cannot print this type: it ends the rows event's output here (log_event.cc
          // log_event_print_value returns 0, print_verbose jumps to its end).
          stop = j;
          const type = plan[column - 1]?.type;
          if (pv.column !== column || pv.stop !== type)
            miss(
              position,
              `row ${r} unprintable @${pv.column}`,
              `@${column} type ${type}`,
              `type ${pv.stop}`,
            );
          gaps.push({ file, position, table, row: k + 1, rowsLeft: rows.length - k, column, type: pv.stop });
          break;
        }
        compared.values++;
        const col = plan[column - 1];
        if (!pv || !col || pv.column !== column) {
          miss(position, `row ${r} @${column}`, column, pv && `@${pv.column}=${pv.text}`);
          continue;
        }
        const m = valueMismatch(value, col, map.columnMeta[column - 1] ?? 0, column, pv.text, flavor);
        if (m) miss(position, `row ${r} @${column}${m.why ? ` (${m.why})` : ''}`, m.ours, pv.text);
      }
      if (stop !== undefined) {
        // The rest of this rows event was not printed; the next rows event starts with a new row.
        if (p.values.length !== stop + 1)
          miss(position, `row ${r} values after the stop`, stop + 1, p.values.length);
        break;
      }
      if (ours.length !== p.values.length)
        miss(position, `row ${r} value count`, ours.length, p.values.length);
      // Row images are FULL on both servers (the default), so the highest @N printed is the table's
      // column count, which neither tool prints with the Table_map itself.
      const printedColumns = Math.max(0, ...p.values.map((v) => v.column));
      compared.columnCounts++;
      if (printedColumns !== map.columnCount)
        miss(position, `row ${r} table map column count`, map.columnCount, printedColumns);
    }
  }
  if (r !== printed.rows.length) miss(position, 'printed rows left over', r, printed.rows.length);
}
