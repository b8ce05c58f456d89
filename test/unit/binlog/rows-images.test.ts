/**
 * Row images as a whole: NULL and present-column bitmaps, several rows per event, UPDATE/DELETE, v2
 * and MariaDB compressed events, PARTIAL_UPDATE_ROWS JSON diffs, and the errors for broken rows.
 */
import { deflateRawSync, deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodeRowImage, packedInt, type CellInput, type ColumnDef } from '../../helpers/binlog/index.js';
import { BinlogDecodeError, decodeRows, StringValue, type ColumnValue } from '../../../src/binlog/index.js';
import { uncompressColumn } from '../../../src/binlog/rows/compressed-column.js';
import { buildEvent, decodeBuilt } from './rows-helpers.js';

const text = (v: ColumnValue): unknown => (v instanceof StringValue ? v.text : v);

function thrown(fn: () => unknown): BinlogDecodeError {
  try {
    fn();
  } catch (err) {
    if (err instanceof BinlogDecodeError) return err;
    throw err;
  }
  throw new Error('did not throw');
}

describe('bitmaps and images', () => {
  it('NULL bitmap over 20 columns: NULL is null, values land in their columns', () => {
    const cols: ColumnDef[] = Array.from({ length: 20 }, () => ({ type: 'long' }));
    const values: CellInput[] = cols.map((_, i) => (i % 3 === 0 ? null : i * 1000));
    expect(decodeBuilt(cols, [{ after: values }])[0].after).toEqual(values);
  });

  it('a MINIMAL image: absent columns are undefined, distinct from NULL', () => {
    const cols: ColumnDef[] = [
      { type: 'long' },
      { type: 'varchar', maxBytes: 20 },
      { type: 'long' },
      { type: 'long' },
    ];
    const [change] = decodeBuilt(cols, [
      { before: [30, undefined, undefined, undefined], after: [undefined, 'minimal-image', null, undefined] },
    ]);
    expect(change.before).toHaveLength(4);
    expect(change.before!.map((v, i) => [i, v === undefined ? 'absent' : v])).toEqual([
      [0, 30],
      [1, 'absent'],
      [2, 'absent'],
      [3, 'absent'],
    ]);
    expect(change.after!.map((v) => (v === undefined ? 'absent' : text(v)))).toEqual([
      'absent',
      'minimal-image',
      null,
      'absent',
    ]);
  });

  it('several rows per event, for WRITE, UPDATE (before then after) and DELETE', () => {
    const cols: ColumnDef[] = [{ type: 'long' }, { type: 'varchar', maxBytes: 300 }];
    const w = decodeBuilt(cols, [{ after: [1, 'a'] }, { after: [2, 'b'.repeat(300)] }, { after: [3, null] }]);
    expect(w.map((c) => [c.before, c.after?.map(text)])).toEqual([
      [undefined, [1, 'a']],
      [undefined, [2, 'b'.repeat(300)]],
      [undefined, [3, null]],
    ]);
    const u = decodeBuilt(cols, [
      { before: [1, 'a'], after: [1, 'a2'] },
      { before: [2, 'b'], after: [20, null] },
    ]);
    expect(u.map((c) => [c.before!.map(text), c.after!.map(text)])).toEqual([
      [
        [1, 'a'],
        [1, 'a2'],
      ],
      [
        [2, 'b'],
        [20, null],
      ],
    ]);
    const d = decodeBuilt(cols, [{ before: [7, 'gone'] }]);
    expect(d.map((c) => [c.before!.map(text), c.after])).toEqual([[[7, 'gone'], undefined]]);
  });

  it('v2 (MySQL) and MariaDB compressed rows events decode alike', () => {
    const cols: ColumnDef[] = [{ type: 'long' }, { type: 'blob' }];
    const images = [
      { after: [20, 'z'.repeat(300)] as CellInput[] },
      { after: [21, 'compress-me'] as CellInput[] },
    ];
    const plain = decodeBuilt(cols, images);
    expect(decodeBuilt(cols, images, { version: 2 })).toEqual(plain);
    expect(decodeBuilt(cols, images, { flavor: 'mariadb', compressed: true })).toEqual(plain);
    expect(decodeBuilt(cols, images, { flavor: 'mariadb', compressed: true, version: 2 })).toEqual(plain);
  });
});

describe('PARTIAL_UPDATE_ROWS (39)', () => {
  const cols: ColumnDef[] = [
    { type: 'long' },
    { type: 'json' },
    { type: 'varchar', maxBytes: 10 },
    { type: 'json' },
  ];
  const before: CellInput[] = [1, { a: 1, c: 0 }, 'x', [1]];

  it('is an update with `partial`; JSON columns marked partial hold the diffs, others a document', () => {
    const after: CellInput[] = [
      1,
      {
        $jsonDiffs: [
          { operation: 'replace', path: '$.a', value: 2 },
          { operation: 'insert', path: '$.b', value: [true, 'é'] },
          { operation: 'remove', path: '$.c' },
        ],
      },
      'y',
      [2],
    ];
    // value_options = PARTIAL_JSON, then one bit per JSON column of the table: only the first.
    const rows = Buffer.concat([
      encodeRowImage(cols, before),
      packedInt(1),
      Buffer.of(0b01),
      encodeRowImage(cols, after),
    ]);
    const { decoder, event } = buildEvent(cols, [{ before, after }], { partial: true, rows });
    expect(event).toMatchObject({ kind: 'update_rows', partial: true, version: 2, header: { typeCode: 39 } });
    const [change] = decoder.decodeRows(event);
    expect(change.before!.map(text)).toEqual([
      1,
      { kind: 'json', value: { a: 1, c: 0 } },
      'x',
      { kind: 'json', value: [1] },
    ]);
    expect(change.after!.map(text)).toEqual([
      1,
      {
        kind: 'json_diff',
        diffs: [
          { operation: 'replace', path: '$.a', value: 2 },
          { operation: 'insert', path: '$.b', value: [true, 'é'] },
          { operation: 'remove', path: '$.c' },
        ],
      },
      'y',
      { kind: 'json', value: [2] },
    ]);
  });

  it('value_options 0: no partial bitmap, full documents', () => {
    const after: CellInput[] = [1, { a: 3 }, null, [3]];
    const rows = Buffer.concat([encodeRowImage(cols, before), packedInt(0), encodeRowImage(cols, after)]);
    const { decoder, event } = buildEvent(cols, [{ before, after }], { partial: true, rows });
    expect(decoder.decodeRows(event)[0].after!.map(text)).toEqual([
      1,
      { kind: 'json', value: { a: 3 } },
      null,
      { kind: 'json', value: [3] },
    ]);
  });

  it('an unknown diff operation is MALFORMED_EVENT', () => {
    const after: CellInput[] = [1, Buffer.of(7, 1, 0x24), 'y', [2]];
    const rows = Buffer.concat([
      encodeRowImage(cols, before),
      packedInt(1),
      Buffer.of(0b01),
      encodeRowImage(cols, after),
    ]);
    const { decoder, event } = buildEvent(cols, [{ before, after }], { partial: true, rows });
    const err = thrown(() => decoder.decodeRows(event));
    expect(err.code).toBe('MALFORMED_EVENT');
    expect(err.detail).toBe('JSON diff operation 7 (db.t row 1, column 2 (type 245))');
  });
});

describe('errors', () => {
  const cols: ColumnDef[] = [{ type: 'long' }, { type: 'varchar', maxBytes: 10 }];

  it('a value running past the row data is MALFORMED_EVENT naming table, row, column, file', () => {
    const err = thrown(() =>
      decodeBuilt(cols, [{ after: [1, 'abc'] }, { after: [2, 'defg'] }], { tamper: -1 }),
    );
    expect(err.code).toBe('MALFORMED_EVENT');
    expect(err.detail).toBe(
      'row value needs 4 bytes at row data offset 15, only 3 left (db.t row 2, column 2 (type 15))',
    );
    expect(err.file).toBe('test-bin.000001');
    expect(err.typeCode).toBe(23);
  });

  it('bytes after the last whole row are MALFORMED_EVENT, never a guessed row', () => {
    expect(thrown(() => decodeBuilt(cols, [{ after: [1, 'abc'] }], { tamper: 1 })).code).toBe(
      'MALFORMED_EVENT',
    );
  });

  it('an image of no columns with bytes left fails instead of looping', () => {
    const err = thrown(() => decodeBuilt(cols, [{ after: [undefined, undefined] }], { rows: Buffer.of(0) }));
    expect(err.detail).toBe('row image of no columns with bytes left (db.t row 1)');
  });

  it('a column type whose size is unknown is UNSUPPORTED (it cannot be skipped)', () => {
    const err = thrown(() =>
      decodeBuilt([{ type: 'raw', code: 0 }, { type: 'long' }], [{ after: [Buffer.of(1), 2] }]),
    );
    expect(err.code).toBe('UNSUPPORTED');
    expect(err.detail).toBe(
      'column 1 has type 0, whose size in a row is unknown (db.t row 1, column 1 (type 0))',
    );
  });

  it('impossible metadata is MALFORMED_EVENT', () => {
    const badDecimal = thrown(() =>
      decodeBuilt([{ type: 'raw', code: 246, meta: [4, 6] }], [{ after: [Buffer.alloc(4)] }]),
    );
    expect(badDecimal.detail).toMatch(/^DECIMAL\(4,6\) is not a valid column type/);
    const badEnum = thrown(() =>
      decodeBuilt([{ type: 'raw', code: 254, meta: [247, 3] }], [{ after: [Buffer.alloc(3)] }]),
    );
    expect(badEnum.detail).toMatch(/^ENUM of 3 bytes/);
  });

  it('a missing or different TABLE_MAP, or more columns than it has', () => {
    const { decoder, event } = buildEvent(cols, [{ after: [1, 'a'] }]);
    const tm = decoder.tableMap(42)!;
    expect(thrown(() => decodeRows({ ...event, tableId: 43 }, tm)).detail).toBe(
      'rows event of table id 43 given the TABLE_MAP of table id 42',
    );
    expect(thrown(() => decodeRows({ ...event, columnCount: 3 }, tm)).detail).toBe(
      'rows event has 3 columns, the TABLE_MAP of db.t 2',
    );
    expect(thrown(() => decoder.decodeRows({ ...event, tableId: 99 })).detail).toBe(
      'no TABLE_MAP for table id 99',
    );
  });
});

describe('garbage row data', () => {
  it('mutated rows of every type fail only with BinlogDecodeError (seed 99, 5000 cases)', () => {
    const cols: ColumnDef[] = [
      { type: 'tiny' },
      { type: 'longlong' },
      { type: 'double' },
      { type: 'decimal', precision: 20, scale: 6 },
      { type: 'varchar', maxBytes: 300 },
      { type: 'char', maxBytes: 12 },
      { type: 'blob', lengthBytes: 3 },
      { type: 'json' },
      { type: 'enum' },
      { type: 'set', size: 2 },
      { type: 'bit', bits: 13 },
      { type: 'date' },
      { type: 'time2', fsp: 3 },
      { type: 'datetime2', fsp: 6 },
      { type: 'timestamp2', fsp: 2 },
      { type: 'year' },
      { type: 'geometry', lengthBytes: 4 },
    ];
    const row: CellInput[] = [
      -1,
      5n,
      0.5,
      '-12.345678',
      'v'.repeat(260),
      'char',
      'blob',
      { a: [1, 'x'] },
      2,
      3n,
      7n,
      '2024-02-29',
      '-12:00:00.500',
      '2024-02-29 13:14:15.123456',
      '2024-02-29 13:14:15.12',
      2024,
      Buffer.alloc(25, 1),
    ];
    const { decoder, event } = buildEvent(cols, [
      { before: row, after: row },
      { before: row, after: row },
    ]);
    const tm = decoder.tableMap(42)!;
    let seed = 99;
    const rand = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    let failures = 0;
    for (let i = 0; i < 5000; i++) {
      const rows = Buffer.from(event.rows.subarray(0, rand(event.rows.length + 1)));
      for (let k = rand(5); k > 0 && rows.length > 0; k--) rows[rand(rows.length)] = rand(256);
      try {
        decodeRows({ ...event, rows }, tm);
      } catch (err) {
        if (!(err instanceof BinlogDecodeError)) throw err;
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(4000);
  });
});

describe('MariaDB compressed column values', () => {
  const wrap = (header: number, len: Buffer, data: Buffer): Buffer =>
    Buffer.concat([Buffer.of(header), len, data]);

  it('header 0 is stored as is; raw deflate (bit 3) and zlib-wrapped both inflate', () => {
    const text = Buffer.from('compress-me '.repeat(30));
    expect(uncompressColumn(Buffer.from('\0abc'))).toEqual(Buffer.from('abc'));
    expect(uncompressColumn(Buffer.alloc(0))).toEqual(Buffer.alloc(0));
    expect(uncompressColumn(wrap(0x8a, Buffer.of(1, 0x68), deflateRawSync(text)))).toEqual(text);
    expect(uncompressColumn(wrap(0x82, Buffer.of(1, 0x68), deflateSync(text)))).toEqual(text);
  });

  it('a bad header, a broken stream or a wrong length is MALFORMED_EVENT', () => {
    const data = deflateRawSync(Buffer.from('abcdef'));
    const detail = (b: Buffer): string => thrown(() => uncompressColumn(b)).detail;
    expect(detail(Buffer.of(0x40, 1))).toBe('compressed column header 0x40');
    expect(detail(Buffer.of(0x8c, 1))).toBe('compressed column header 0x8c');
    expect(detail(wrap(0x89, Buffer.of(6), Buffer.of(1, 2, 3)))).toMatch(
      /^compressed column does not inflate/,
    );
    expect(detail(wrap(0x89, Buffer.of(5), data))).toMatch(/^compressed column does not inflate/);
    expect(detail(wrap(0x89, Buffer.of(7), data))).toBe(
      'compressed column inflated to 6 bytes, header says 7',
    );
  });
});
