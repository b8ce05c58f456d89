/** Outbox mode in the assembler, on built binlog events: which inserted rows become keys, and which never do. */
import { describe, expect, it } from 'vitest';
import { extractAnnotations, type KeyRejectReason } from '../../../src/annotate/index.js';
import { readBinlogFile } from '../../../src/binlog/index.js';
import {
  BinlogFileBuilder,
  buildAnnotateRows,
  buildMariadbGtid,
  buildMysqlGtid,
  buildQuery,
  buildRows,
  buildTableMap,
  buildXid,
  encodeRowImage,
  tableMapColumns,
  type CellInput,
  type ColumnDef,
  type EventOptions,
} from '../../helpers/binlog/index.js';
import { CachetailError } from '../../../src/errors.js';
import type { CommittedTransaction } from '../../../src/sinks/sink.js';
import type { OutboxOptions } from '../../../src/tailer/outbox.js';
import { TransactionAssembler, type KeyExtractor } from '../../../src/tailer/transactions.js';

/** The shipped layout: id BIGINT UNSIGNED, cache_key VARBINARY(250), created_at TIMESTAMP(3). */
const OUTBOX: ColumnDef[] = [
  { type: 'longlong' },
  { type: 'varchar', maxBytes: 250 },
  { type: 'timestamp2', fsp: 3 },
];
const OTHER: ColumnDef[] = [{ type: 'long' }, { type: 'varchar', maxBytes: 250 }];

const extract: KeyExtractor = (sql, lex) => {
  const r = extractAnnotations(sql, lex);
  return { keys: r.keys, writerTimeMs: r.annotations.find((a) => a.ts !== undefined)?.ts };
};

function tableMap(tableId: number, db: string, table: string, cols: ColumnDef[]) {
  return (o: EventOptions) => buildTableMap({ tableId, db, table, ...tableMapColumns(cols) }, o);
}

function rows(
  kind: 'write_rows' | 'update_rows' | 'delete_rows',
  tableId: number,
  cols: ColumnDef[],
  images: CellInput[][],
  version: 1 | 2 = 1,
) {
  return (o: EventOptions) =>
    buildRows(
      {
        kind,
        version,
        tableId,
        columnCount: cols.length,
        rows: Buffer.concat(images.map((v) => encodeRowImage(cols, v))),
      },
      o,
    );
}

const row = (id: number, key: string | Buffer | null, at = '2024-05-01 12:00:00.250'): CellInput[] => [
  id,
  key,
  at,
];

function run(f: BinlogFileBuilder, outbox?: OutboxOptions): CommittedTransaction[] {
  const asm = new TransactionAssembler(extract, { outbox });
  asm.reset('bin.000001');
  const out: CommittedTransaction[] = [];
  for (const { event } of readBinlogFile(f.toBuffer())) {
    const t = asm.push(event);
    if (t) out.push(t);
  }
  return out;
}

const OPTS: OutboxOptions = { tables: ['app.cachetail_dirty_keys'] };

/** GTID, BEGIN, the given events, XID: one MariaDB transaction. */
function txn(f: BinlogFileBuilder, seqNo: bigint, ...events: ((o: EventOptions) => Buffer)[]): void {
  f.add((o) => buildMariadbGtid({ seqNo }, o));
  f.add((o) => buildQuery({ sql: 'BEGIN' }, o));
  for (const e of events) f.add(e);
  f.add((o) => buildXid({ xid: seqNo }, o));
}

describe('outbox decoding in the assembler', () => {
  it('takes the keys of inserted rows, in row order, with the earliest created_at as writer time', () => {
    const f = new BinlogFileBuilder({ serverVersion: '10.11.19-MariaDB' });
    txn(
      f,
      1n,
      tableMap(70, 'app', 'cachetail_dirty_keys', OUTBOX),
      rows('write_rows', 70, OUTBOX, [
        row(1, 'user:42:profile', '2024-05-01 12:00:01.500'),
        row(2, 'café:ü 中'.replace(' ', '_')),
        row(3, 'user:42:profile'),
      ]),
    );
    const [t] = run(f, OPTS);
    expect(t?.keys).toEqual(['user:42:profile', 'café:ü_中']);
    expect(t?.writerTimeMs).toBe(Date.UTC(2024, 4, 1, 12, 0, 0, 250));
  });

  it('adds outbox keys to the same transaction as its annotations, delivered at its commit only', () => {
    const f = new BinlogFileBuilder();
    f.add((o) => buildMariadbGtid({ seqNo: 2n }, o));
    f.add((o) => buildQuery({ sql: 'BEGIN' }, o));
    f.add((o) => buildAnnotateRows({ sql: 'UPDATE u SET a=1 /* MEMCACHE_DIRTY a,b */' }, o));
    f.add(tableMap(71, 'app', 'cachetail_dirty_keys', OUTBOX));
    f.add(rows('write_rows', 71, OUTBOX, [row(9, 'b'), row(10, 'c')]));
    f.add((o) => buildXid({ xid: 2n }, o));
    const asm = new TransactionAssembler(extract, { outbox: OPTS });
    const out = [...readBinlogFile(f.toBuffer())].map(({ event }) => asm.push(event)?.keys ?? null);
    expect(out).toEqual([null, null, null, null, null, null, ['a', 'b', 'c']]);
  });

  it('ignores deletes (the cleanup job) and updates of the outbox table', () => {
    const f = new BinlogFileBuilder();
    txn(
      f,
      3n,
      tableMap(72, 'app', 'cachetail_dirty_keys', OUTBOX),
      rows('delete_rows', 72, OUTBOX, [row(1, 'user:1'), row(2, 'user:2')]),
    );
    txn(
      f,
      4n,
      tableMap(72, 'app', 'cachetail_dirty_keys', OUTBOX),
      rows('update_rows', 72, OUTBOX, [row(1, 'user:1'), row(1, 'user:3')]),
    );
    expect(run(f, OPTS).map((t) => t.keys)).toEqual([[], []]);
  });

  it('ignores rows of other tables: same name in another schema, another table, a reused table id', () => {
    const f = new BinlogFileBuilder();
    txn(
      f,
      5n,
      tableMap(73, 'other', 'cachetail_dirty_keys', OUTBOX),
      rows('write_rows', 73, OUTBOX, [row(1, 'x:1')]),
      tableMap(74, 'app', 'users', OTHER),
      rows('write_rows', 74, OTHER, [[1, 'x:2']]),
    );
    // The id of an outbox TABLE_MAP later bound to another table: its rows are not outbox rows.
    txn(
      f,
      6n,
      tableMap(75, 'app', 'cachetail_dirty_keys', OUTBOX),
      tableMap(75, 'app', 'notes', OUTBOX),
      rows('write_rows', 75, OUTBOX, [row(1, 'x:3')]),
    );
    expect(run(f, OPTS).map((t) => t.keys)).toEqual([[], []]);
  });

  it('is off without the option, and matches the table name case-insensitively', () => {
    const f = new BinlogFileBuilder();
    txn(
      f,
      7n,
      tableMap(76, 'App', 'CacheTail_Dirty_Keys', OUTBOX),
      rows('write_rows', 76, OUTBOX, [row(1, 'k:1')]),
    );
    expect(run(f).map((t) => t.keys)).toEqual([[]]);
    expect(run(f, { tables: [] }).map((t) => t.keys)).toEqual([[]]);
    expect(run(f, OPTS).map((t) => t.keys)).toEqual([['k:1']]);
    expect(run(f, { tables: ['other.t', 'app.cachetail_dirty_keys'] }).map((t) => t.keys)).toEqual([['k:1']]);
  });

  it('skips and reports keys memcached cannot hold; the valid keys of the same insert are kept', () => {
    const rejected: KeyRejectReason[] = [];
    const f = new BinlogFileBuilder();
    txn(
      f,
      8n,
      tableMap(77, 'app', 'cachetail_dirty_keys', OUTBOX),
      rows('write_rows', 77, OUTBOX, [
        row(1, 'ok:1'),
        row(2, ''),
        row(3, 'has space'),
        row(4, Buffer.from([0x6b, 0xff])),
        row(5, 'x'.repeat(250)),
        row(6, Buffer.alloc(251, 0x78)),
        row(7, 'tab\tkey'),
        row(8, 'ok:2'),
      ]),
    );
    const [t] = run(f, { ...OPTS, onRejected: (reason) => rejected.push(reason) });
    expect(t?.keys).toEqual(['ok:1', 'x'.repeat(250), 'ok:2']);
    expect(rejected).toEqual([
      'empty-key',
      'forbidden-byte',
      'invalid-utf8',
      'key-too-long',
      'forbidden-byte',
    ]);
  });

  it('decodes MySQL v2 rows events in a MySQL GTID transaction', () => {
    const sid = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
    const f = new BinlogFileBuilder();
    f.add((o) => buildMysqlGtid({ sid, gno: 5n }, o));
    f.add((o) => buildQuery({ sql: 'BEGIN' }, o));
    f.add(tableMap(78, 'app', 'cachetail_dirty_keys', OUTBOX));
    f.add(rows('write_rows', 78, OUTBOX, [row(1, 'my:1')], 2));
    f.add((o) => buildXid({ xid: 1n }, o));
    expect(run(f, OPTS).map((t) => [t.gtid, t.keys])).toEqual([[`${sid}:5`, ['my:1']]]);
  });

  it('stops (fails closed) on an outbox table of another shape, or an inserted row without a key', () => {
    const wrong: ColumnDef[] = [{ type: 'longlong' }, { type: 'long' }];
    const f = new BinlogFileBuilder();
    txn(f, 9n, tableMap(79, 'app', 'cachetail_dirty_keys', wrong));
    expect(() => run(f, OPTS)).toThrow(
      expect.objectContaining({ code: 'OUTBOX_TABLE_SHAPE', retryable: false }),
    );

    const g = new BinlogFileBuilder();
    txn(
      g,
      10n,
      tableMap(80, 'app', 'cachetail_dirty_keys', OUTBOX),
      rows('write_rows', 80, OUTBOX, [row(1, null)]),
    );
    const err = (() => {
      try {
        run(g, OPTS);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(CachetailError);
    expect(err).toMatchObject({ code: 'OUTBOX_ROW_WITHOUT_KEY', retryable: false });
  });
});
