/**
 * Event-by-event comparison of our decoding of one binlog file with `mariadb-binlog -vv` of the same
 * file. Returns every disagreement as a line (the test asserts the list is empty) and what was compared,
 * so a test cannot pass by comparing nothing.
 *
 * mariadb-binlog prints the rows of a statement after its last rows event (STMT_END), with
 * `# Number of rows: N` for the whole statement; rows are compared per statement for that reason.
 */
import { eventTypeName } from '../../src/binlog/constants.js';
import type { BinlogEvent, RowsEvent, TableMapEvent } from '../../src/binlog/events/types.js';
import { tablePlan } from '../../src/binlog/rows/columns.js';
import { decodeRows } from '../../src/binlog/rows/decode.js';
import type { Row, RowChange } from '../../src/binlog/rows/values.js';
import type { Dump, DumpEvent } from '../unit/binlog/mariadb-binlog-dump.js';
import { dumpValue } from './binlog-dump-values.js';

export interface DecodedEvent {
  position: number;
  event: BinlogEvent;
}

export interface Compared {
  events: number;
  gtids: number;
  queries: number;
  annotations: number;
  tableMaps: number;
  rowsEvents: number;
  statements: number;
  rows: number;
  /** Rows whose printed columns were checked against the TABLE_MAP's column count. */
  columnCounts: number;
  values: number;
  /** Events per type name (ours, which agreed with mariadb-binlog's type where compared). */
  types: Record<string, number>;
}

/** Our text as the bytes mariadb-binlog wrote, in a latin1 string (the dump is read as latin1). */
const asDumpText = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

interface DumpRow {
  /** `### INSERT INTO`, `### UPDATE`, `### DELETE FROM` */
  verb: string;
  table: string;
  /** The `@N=` values in printed order (WHERE image, then SET image). */
  values: { column: number; text: string }[];
}

const ROW_HEAD = /^### (INSERT INTO|UPDATE|DELETE FROM) `(.*)`\.`(.*)`$/;
const ROW_VALUE = /^### {3}@(\d+)=(.*) \/\* (.*) meta=(\d+) nullable=\d is_null=\d \*\/$/;

function dumpRows(body: string[]): { rows: DumpRow[]; count: number | undefined } {
  const rows: DumpRow[] = [];
  let count: number | undefined;
  for (const line of body) {
    const head = ROW_HEAD.exec(line);
    if (head) {
      rows.push({ verb: head[1] ?? '', table: `${head[2]}.${head[3]}`, values: [] });
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

function imageValues(row: Row | undefined, map: TableMapEvent): { column: number; text: string }[] {
  if (!row) return [];
  const plan = tablePlan(map).columns;
  const out: { column: number; text: string }[] = [];
  row.forEach((value, i) => {
    const col = plan[i];
    if (value === undefined || col === undefined) return;
    out.push({ column: i + 1, text: dumpValue(value, col, map.columnMeta[i] ?? 0) });
  });
  return out;
}

export function compareWithDump(
  file: string,
  ours: DecodedEvent[],
  dump: Dump,
): { mismatches: string[]; compared: Compared } {
  const mismatches: string[] = [];
  const compared: Compared = {
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
    types: {},
  };
  const miss = (at: number, what: string, got: unknown, want: unknown): void => {
    const show = (v: unknown): string => {
      const s =
        typeof v === 'string'
          ? v
          : JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x));
      return s.length > 200 ? `${s.slice(0, 200)}… (${s.length} chars)` : s;
    };
    mismatches.push(`${file} @${at} ${what}: ours ${show(got)} mariadb-binlog ${show(want)}`);
  };
  if (!dump.complete || dump.exitCode !== 0)
    mismatches.push(`${file}: mariadb-binlog did not finish (rc ${dump.exitCode}: ${dump.stderr.join(' ')})`);
  if (ours.length !== dump.events.length) miss(0, 'event count', ours.length, dump.events.length);
  if (dump.at.length !== dump.events.length)
    miss(0, '`# at` lines vs events', dump.at.length, dump.events.length);

  const maps = new Map<number, TableMapEvent>();
  let statement: StatementRows[] = [];
  const n = Math.min(ours.length, dump.events.length);
  for (let i = 0; i < n; i++) {
    const { position, event } = ours[i];
    const want = dump.events[i];
    const h = event.header;
    const type = eventTypeName(h.typeCode);
    compared.events++;
    compared.types[type] = (compared.types[type] ?? 0) + 1;
    if (dump.at[i] !== position) miss(position, 'position', position, dump.at[i]);
    if (!want.typeCodes.includes(h.typeCode))
      miss(
        position,
        'type',
        `${type} (${h.typeCode})`,
        `${want.description} ${JSON.stringify(want.typeCodes)}`,
      );
    if (h.nextPosition !== want.endLogPos) miss(position, 'end_log_pos', h.nextPosition, want.endLogPos);
    if (h.serverId !== want.serverId) miss(position, 'server id', h.serverId, want.serverId);
    switch (event.kind) {
      case 'mariadb_gtid':
        compared.gtids++;
        if (event.gtid !== want.gtid) miss(position, 'GTID', event.gtid, want.gtid);
        break;
      case 'mariadb_gtid_list': {
        const got = event.gtids.map((g) => `${g.domainId}-${g.serverId}-${g.seqNo}`);
        if (JSON.stringify(got) !== JSON.stringify(want.gtidList))
          miss(position, 'GTID list', got, want.gtidList);
        break;
      }
      case 'binlog_checkpoint':
        if (event.file !== want.checkpoint) miss(position, 'checkpoint', event.file, want.checkpoint);
        break;
      case 'query': {
        compared.queries++;
        const q = want.query;
        const got = {
          sql: asDumpText(event.sql),
          threadId: event.threadId,
          errorCode: event.errorCode,
          xid: event.statusVars.xid ?? 0n,
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
      case 'xid':
        if (event.xid !== want.xid) miss(position, 'xid', event.xid, want.xid);
        break;
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
          statement.push({ event, map, rows: decodeRows(event, map) });
        } catch (err) {
          miss(position, 'row decoding', String(err), 'rows');
        }
        if (event.stmtEnd) {
          compareStatement(position, statement, want, miss, compared);
          statement = [];
        }
        break;
      }
      default:
        break;
    }
  }
  return { mismatches, compared };
}

interface StatementRows {
  event: RowsEvent;
  map: TableMapEvent;
  rows: RowChange[];
}

/** One statement's rows (all its rows events) against what mariadb-binlog printed at its STMT_END. */
function compareStatement(
  position: number,
  statement: StatementRows[],
  want: DumpEvent,
  miss: (at: number, what: string, got: unknown, want: unknown) => void,
  compared: Compared,
): void {
  compared.statements++;
  const printed = dumpRows(want.body);
  const total = statement.reduce((sum, s) => sum + s.rows.length, 0);
  if (total !== printed.count) miss(position, 'rows in statement (# Number of rows)', total, printed.count);
  if (printed.rows.length !== printed.count)
    miss(position, 'printed rows vs # Number of rows', printed.rows.length, printed.count);
  // Each rows event's rows, in order, against the printed rows in order.
  let r = 0;
  for (const { event: ev, map, rows } of statement) {
    for (const change of rows) {
      const p = printed.rows[r++];
      compared.rows++;
      const table = `${map.db}.${map.table}`;
      if (!p || p.verb !== VERB[ev.kind] || p.table !== table) {
        miss(position, `row ${r} head`, `${VERB[ev.kind]} ${table}`, p && `${p.verb} ${p.table}`);
        continue;
      }
      // Row images are FULL on both servers (the default), so the highest @N printed is the table's
      // column count, which mariadb-binlog does not print with the Table_map itself.
      const printedColumns = Math.max(0, ...p.values.map((v) => v.column));
      compared.columnCounts++;
      if (printedColumns !== map.columnCount)
        miss(position, `row ${r} table map column count`, map.columnCount, printedColumns);
      const ours = [...imageValues(change.before, map), ...imageValues(change.after, map)];
      if (ours.length !== p.values.length)
        miss(position, `row ${r} value count`, ours.length, p.values.length);
      ours.forEach((v, k) => {
        const pv = p.values[k];
        compared.values++;
        if (!pv || pv.column !== v.column || pv.text !== v.text)
          miss(position, `row ${r} @${v.column}`, v.text, pv && `@${pv.column}=${pv.text}`);
      });
    }
  }
}
