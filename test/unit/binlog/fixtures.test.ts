import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { expect, it } from 'vitest';
import {
  BinlogDecodeError,
  BinlogDecoder,
  type BinlogEvent,
  eventTypeName,
  readBinlogFile,
  type PositionedEvent,
  type TableMapEvent,
} from '../../../src/binlog/index.js';
import { binlogFixture, binlogFixturesDir, describeWithBinlogFixtures } from '../../helpers/fixtures.js';
import { parseMariadbBinlogDump, type Dump, type DumpEvent } from './mariadb-binlog-dump.js';

/** Fixtures that are broken on purpose, and the error the decoder must raise for each. */
const EXPECTED_ERRORS: Record<string, { code: string; position: number; typeCode?: number; events: number }> =
  {
    // 14 bytes: magic + 10 bytes of a header.
    'rust_mysql_common/binlog_truncated_event.000001': { code: 'TRUNCATED', position: 4, events: 0 },
    // FDE, then 9 bytes of a PREVIOUS_GTIDS header.
    'rust_mysql_common/binlog_truncated_prev_gtid_event.000001': {
      code: 'TRUNCATED',
      position: 120,
      events: 1,
    },
    // The last QUERY's body is the tail of another statement: status_vars_len 13617 > body.
    'rust_mysql_common/corrupt-relay-bin.000624': {
      code: 'MALFORMED_EVENT',
      position: 91204,
      typeCode: 2,
      events: 872,
    },
  };

/** Column values whose metadata mariadb-binlog printed (guards against the dump parser matching nothing). */
const EXPECTED_COLUMN_CHECKS: Record<string, number> = {
  'generated-mariadb-10.11.19/primary-m1-bin.000002': 182,
  'rust_mysql_common/write-full-row.binlog': 21,
};

interface Fixture {
  /** Path relative to shared/fixtures/binlog. */
  name: string;
  bytes: Buffer;
  dump: Dump;
}

function listFixtures(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.mariadb-binlog\.txt(\.gz)?$/.test(entry.name)) {
        out.push(path.relative(binlogFixturesDir, full).replace(/\.mariadb-binlog\.txt(\.gz)?$/, ''));
      }
    }
  };
  walk(binlogFixturesDir);
  return out.sort();
}

function loadFixture(name: string): Fixture {
  const raw = readFileSync(binlogFixture(name));
  const bytes = name.endsWith('.gz') ? gunzipSync(raw) : raw;
  const dumpPath = binlogFixture(`${name}.mariadb-binlog.txt`);
  const dumpText = existsSync(dumpPath)
    ? readFileSync(dumpPath, 'utf8')
    : gunzipSync(readFileSync(`${dumpPath}.gz`)).toString('utf8');
  return { name, bytes, dump: parseMariadbBinlogDump(dumpText) };
}

interface Decoded {
  events: PositionedEvent[];
  /** Events inside TRANSACTION_PAYLOADs, by the position of their payload event. */
  inner: Map<number, BinlogEvent[]>;
  error: unknown;
}

function decodeAll(bytes: Buffer, file: string): Decoded {
  const events: PositionedEvent[] = [];
  const inner = new Map<number, BinlogEvent[]>();
  const decoder = new BinlogDecoder({ file });
  try {
    for (const e of readBinlogFile(bytes, { file, decoder })) {
      events.push(e);
      if (e.event.kind === 'transaction_payload') inner.set(e.position, [...decoder.payloadEvents(e.event)]);
    }
    return { events, inner, error: undefined };
  } catch (error) {
    return { events, inner, error };
  }
}

/** Event types the decoder leaves as `unknown` in each fixture (all others are decoded). */
const EXPECTED_UNKNOWN: Record<string, Record<number, number>> = {
  // Aurora's padding event (type 100, IGNORABLE flag).
  'osheroff-mysql-binlog-connector-java/mysql-bin.aurora-padding': { 100: 1 },
  // LOAD DATA events (APPEND_BLOCK 9, BEGIN/EXECUTE_LOAD_QUERY 17/18) and pre-GA rows events (20-22).
  'rust_mysql_common/ver_5_1-wl2325_r.001': { 17: 1, 18: 1 },
  'rust_mysql_common/ver_5_1-wl2325_s.001': { 9: 1, 20: 1, 21: 1, 22: 1 },
  'rust_mysql_common/ver_5_1_23.001': { 9: 1, 17: 1, 18: 1 },
  'rust_mysql_common/ver_trunk_row_v2.001': { 9: 1, 17: 1, 18: 1 },
};

function unknownCensus(events: PositionedEvent[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const { event } of events)
    if (event.kind === 'unknown') out[event.typeCode] = (out[event.typeCode] ?? 0) + 1;
  return out;
}

/**
 * MySQL 8 GTID events carry the byte length of their transaction: the GTID event through the
 * commit, i.e. up to the next GTID (or ROTATE/STOP/end of file). Returns how many were checked.
 */
function expectTransactionLengths(events: PositionedEvent[], name: string): number {
  let checked = 0;
  for (let i = 0; i < events.length; i++) {
    const g = events[i].event;
    if (g.kind !== 'mysql_gtid' || g.transactionLength === undefined) continue;
    let bytes = 0;
    for (let j = i; j < events.length; j++) {
      const e = events[j].event;
      if (j > i && (e.kind === 'mysql_gtid' || e.kind === 'rotate' || e.kind === 'stop')) break;
      bytes += e.header.eventSize;
    }
    expect(g.transactionLength, `${name}: transaction of GTID at ${events[i].position}`).toBe(bytes);
    checked++;
  }
  return checked;
}

/** Header walk of SOURCES.md, as JSON: per file the count of events per type name. */
interface WalkEntry {
  file: string;
  events: number;
  event_types: Record<string, number>;
}

function walkCounts(): Map<string, WalkEntry> {
  const walk = JSON.parse(readFileSync(binlogFixture('walk.json'), 'utf8')) as WalkEntry[];
  return new Map(walk.map((w) => [w.file.replace(/^\.\//, ''), w]));
}

function countByType(events: PositionedEvent[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { event } of events) {
    const name = event.header.typeCode === 100 ? 'type100' : eventTypeName(event.header.typeCode);
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

function utcDumpTime(ts: number): string {
  const d = new Date(ts * 1000);
  const p = (n: number): string => String(n).padStart(2, '0');
  const date = `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}`;
  return `${date} ${String(d.getUTCHours()).padStart(2, ' ')}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

let transactionLengthsChecked = 0;
let innerEvents = 0;

/** How many printed context values (sql_mode, use, collations) were compared, over all fixtures. */
let printedChecks = 0;

/** Compares one decoded event with what mariadb-binlog printed for it. */
function expectSameEvent(got: PositionedEvent, want: DumpEvent, bytes: Buffer, where: string): void {
  const { event, position } = got;
  const h = event.header;
  const ctx = `${where} event at ${position} (${eventTypeName(h.typeCode)})`;
  expect(want.typeCodes, ctx).toContain(h.typeCode);
  expect(h.nextPosition, ctx).toBe(want.endLogPos);
  expect(h.serverId, ctx).toBe(want.serverId);
  expect(utcDumpTime(h.timestamp), ctx).toBe(want.time);
  if (want.crc !== undefined) {
    expect(bytes.readUInt32LE(position + h.eventSize - 4), ctx).toBe(want.crc);
  }
  expectSameDetails(event, want, ctx);
}

function expectSameDetails(event: BinlogEvent, want: DumpEvent, ctx: string): void {
  switch (event.kind) {
    case 'query':
      expect(want.query, ctx).toBeDefined();
      expect(
        {
          threadId: event.threadId,
          execTime: event.execTime,
          errorCode: event.errorCode,
          xid: event.statusVars.xid ?? 0n,
          sql: event.sql,
        },
        ctx,
      ).toEqual({ ...want.query, printed: undefined });
      {
        const p = want.query?.printed ?? {};
        if (p.sqlMode !== undefined) expect(event.statusVars.sqlMode, ctx).toBe(p.sqlMode);
        if (p.use !== undefined) expect(event.db, ctx).toBe(p.use);
        if (p.collationConnection !== undefined) {
          expect(event.statusVars.charset?.collationConnection, ctx).toBe(p.collationConnection);
          expect(event.statusVars.charset?.collationServer, ctx).toBe(p.collationServer);
        }
        printedChecks += Object.keys(p).length;
      }
      break;
    case 'annotate_rows':
      expect(event.sql, ctx).toBe(want.annotate);
      break;
    case 'mariadb_gtid':
      expect(event.gtid, ctx).toBe(want.gtid);
      // mariadb-binlog appends ' trans' for FL_TRANSACTIONAL (4) and ' ddl' for FL_DDL (0x20).
      expect((event.flags2 & 0x04) !== 0, ctx).toBe(/ trans\b/.test(want.description));
      expect((event.flags2 & 0x20) !== 0, ctx).toBe(/ ddl\b/.test(want.description));
      expect(event.standalone, ctx).toBe((event.flags2 & 0x01) !== 0);
      break;
    case 'xid':
      expect(event.xid, ctx).toBe(want.xid);
      break;
    case 'rotate':
      expect({ nextFile: event.nextFile, position: event.position }, ctx).toEqual(want.rotate);
      break;
    case 'binlog_checkpoint':
      expect(event.file, ctx).toBe(want.checkpoint);
      break;
    case 'mariadb_gtid_list':
      expect(
        event.gtids.map((g) => `${g.domainId}-${g.serverId}-${g.seqNo}`),
        ctx,
      ).toEqual(want.gtidList);
      break;
    case 'table_map':
      expect({ db: event.db, table: event.table, tableId: event.tableId }, ctx).toEqual(want.tableMap);
      break;
    case 'write_rows':
    case 'update_rows':
    case 'delete_rows':
      expect({ tableId: event.tableId, stmtEnd: event.stmtEnd }, ctx).toEqual(want.rows);
      break;
    case 'intvar':
      expect(want.intvar, ctx).toEqual({
        name: event.intvarType === 1 ? 'LAST_INSERT_ID' : 'INSERT_ID',
        value: event.value,
      });
      break;
    case 'rand':
      expect(want.rand, ctx).toEqual({ seed1: event.seed1, seed2: event.seed2 });
      break;
    case 'user_var':
      expect(want.userVar, ctx).toEqual({ name: event.name, isNull: event.isNull });
      break;
    case 'format_description':
      expect(want.description, ctx).toContain(`server v ${event.serverVersion} created`);
      break;
    default:
      break;
  }
}

describeWithBinlogFixtures('binlog fixtures (shared/fixtures/binlog) against mariadb-binlog -vv', () => {
  const names = listFixtures();
  const walk = walkCounts();

  it('finds every fixture with a dump', () => {
    expect(names.length).toBe(58);
  });

  for (const name of names) {
    it(`decodes ${name}`, () => {
      const fx = loadFixture(name);
      const { events, inner, error } = decodeAll(fx.bytes, path.basename(name));
      const expected = EXPECTED_ERRORS[name];
      if (expected) {
        expect(error).toBeInstanceOf(BinlogDecodeError);
        const e = error as BinlogDecodeError;
        expect({ code: e.code, position: e.position, retryable: e.retryable }).toEqual({
          code: expected.code,
          position: expected.position,
          retryable: false,
        });
        if (expected.typeCode !== undefined) expect(e.typeCode).toBe(expected.typeCode);
        expect(e.file).toBe(path.basename(name));
        expect(e.message).toContain(`position ${expected.position}`);
        expect(events.length).toBe(expected.events);
      } else if (error !== undefined) {
        throw error instanceof Error ? error : new Error(JSON.stringify(error));
      }

      // Exact per-type counts of the independent header walk in SOURCES.md / walk.json.
      const w = walk.get(name.replace(/\.gz$/, '.gz'));
      if (w && !expected) {
        expect(events.length).toBe(w.events);
        expect(countByType(events)).toEqual(w.event_types);
      }

      // Every event mariadb-binlog printed, in order, with the same header and details.
      const dumped = fx.dump.events;
      if (fx.dump.complete) expect(events.length).toBe(dumped.length);
      else expect(events.length).toBeGreaterThanOrEqual(dumped.length);
      const tableMaps = new Map<string, TableMapEvent>();
      let columnsChecked = 0;
      for (let i = 0; i < dumped.length; i++) {
        const got = events[i];
        expectSameEvent(got, dumped[i], fx.bytes, name);
        if (got.event.kind === 'table_map') tableMaps.set(`${got.event.db}.${got.event.table}`, got.event);
        // Column metadata and nullability of the TABLE_MAP, as -vv printed them per row value.
        for (const c of dumped[i].columns ?? []) {
          const map = tableMaps.get(c.table);
          const ctx = `${name} @${got.position} ${c.table} column ${c.column} ${c.type}`;
          expect(map, ctx).toBeDefined();
          expect(map?.columnMeta[c.column - 1], ctx).toBe(c.meta);
          const bit = ((map?.nullBitmap[(c.column - 1) >> 3] ?? 0) >> ((c.column - 1) & 7)) & 1;
          expect(bit, ctx).toBe(c.nullable ? 1 : 0);
          columnsChecked++;
        }
      }
      if (EXPECTED_COLUMN_CHECKS[name] !== undefined)
        expect(columnsChecked).toBe(EXPECTED_COLUMN_CHECKS[name]);

      expect(unknownCensus(events), 'event types left undecoded').toEqual(EXPECTED_UNKNOWN[name] ?? {});
      transactionLengthsChecked += expectTransactionLengths(events, name);
      for (const [at, list] of inner) {
        expect(list.length, `${name}: payload at ${at}`).toBeGreaterThan(0);
        expect(list.every((e) => e.header.nextPosition === 0 && e.kind !== 'unknown')).toBe(true);
        innerEvents += list.length;
      }

      // Every `# at N` is the start of a decoded event.
      const starts = new Set(events.map((e) => e.position));
      for (const p of fx.dump.at) expect(starts.has(p), `${name}: # at ${p}`).toBe(true);
    });
  }

  it('checked MySQL transaction lengths and decoded the events inside TRANSACTION_PAYLOADs', () => {
    expect(transactionLengthsChecked).toBe(31);
    expect(innerEvents).toBe(17);
  });

  it('compared the SET context mariadb-binlog printed (sql_mode, use, collations)', () => {
    expect(printedChecks).toBe(208);
  });
});
