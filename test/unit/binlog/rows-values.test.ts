/**
 * Every column type through the builder and back: the values the decoder returns are the values the
 * builder takes, so each case is a round trip; golden bytes from the MySQL manual pin DECIMAL.
 */
import { describe, expect, it } from 'vitest';
import { encodeDecimal, type CellInput, type ColumnDef } from '../../helpers/binlog/index.js';
import { StringValue, type ColumnValue } from '../../../src/binlog/index.js';
import { decodeBuilt, roundTrip } from './rows-helpers.js';

const text = (v: ColumnValue): unknown => (v instanceof StringValue ? v.text : v);

describe('integers', () => {
  it.each<[ColumnDef['type'], number | bigint]>([
    ['tiny', -128],
    ['tiny', 127],
    ['short', -32768],
    ['short', 32767],
    ['int24', -8388608],
    ['int24', 8388607],
    ['long', -2147483648],
    ['long', 2147483647],
    ['longlong', -(1n << 63n)],
    ['longlong', (1n << 63n) - 1n],
  ])('signed %s %s', (type, v) => {
    expect(roundTrip({ type } as ColumnDef, v)).toBe(v);
  });

  it('unsigned from SIGNEDNESS metadata: one bit per numeric column, other columns skipped', () => {
    const cols: ColumnDef[] = [
      { type: 'varchar', maxBytes: 10 },
      { type: 'tiny' },
      { type: 'date' },
      { type: 'long' },
      { type: 'decimal', precision: 5, scale: 2 },
      { type: 'year' },
      { type: 'longlong' },
      { type: 'double' },
      { type: 'short' },
    ];
    const values: CellInput[] = ['k', 255, '2024-01-02', -1, '1.50', 2001, (1n << 64n) - 1n, 0.5, 65535];
    // Numeric columns in order: tiny, long, decimal, longlong, double, short (YEAR is not, on MySQL).
    const signednessBits = [true, false, false, true, false, true];
    const row = decodeBuilt(cols, [{ after: values }], { metadata: { signednessBits } })[0].after!;
    expect(row.map(text)).toEqual(['k', 255, '2024-01-02', -1, '1.50', 2001, (1n << 64n) - 1n, 0.5, 65535]);
  });

  it('MariaDB counts YEAR among the numeric columns (the flavour comes from the FDE)', () => {
    const cols: ColumnDef[] = [{ type: 'year' }, { type: 'long' }, { type: 'long' }];
    const metadata = { signednessBits: [true, false, true] };
    const values: CellInput[] = [2000, -1, 4294967295];
    expect(decodeBuilt(cols, [{ after: values }], { flavor: 'mariadb', metadata })[0].after).toEqual([
      2000, -1, 4294967295,
    ]);
    // The same TABLE_MAP read as MySQL's would shift the bits by one column.
    expect(decodeBuilt(cols, [{ after: values }], { flavor: 'mysql', metadata })[0].after).toEqual([
      2000, 4294967295, -1,
    ]);
  });

  it('unsigned from the caller when the TABLE_MAP has no metadata; hints override metadata', () => {
    const cols: ColumnDef[] = [{ type: 'tiny' }, { type: 'int24' }, { type: 'longlong' }];
    const values: CellInput[] = [200, 16777215, (1n << 64n) - 2n];
    expect(decodeBuilt(cols, [{ after: values }])[0].after).toEqual([-56, -1, -2n]);
    const decode = { unsigned: [true, true, true] };
    expect(decodeBuilt(cols, [{ after: values }], { decode })[0].after).toEqual(values);
    const partly = { unsigned: [undefined, false, true] };
    const metadata = { signednessBits: [true, true, false] };
    expect(decodeBuilt(cols, [{ after: values }], { decode: partly, metadata })[0].after).toEqual([
      200,
      -1,
      (1n << 64n) - 2n,
    ]);
  });
});

describe('floating point, YEAR, NULL type', () => {
  it.each([1.5, -0.25, 0, 3.4028234663852886e38])('FLOAT %s', (v) => {
    expect(roundTrip({ type: 'float' }, v)).toBe(v);
  });
  it.each([Math.PI, -1e-300, Number.MAX_VALUE])('DOUBLE %s', (v) => {
    expect(roundTrip({ type: 'double' }, v)).toBe(v);
  });
  it.each([1901, 2155, 0])('YEAR %s', (v) => {
    expect(roundTrip({ type: 'year' }, v)).toBe(v);
  });
});

describe('DECIMAL', () => {
  it('matches the MySQL manual example bytes for DECIMAL(14,4)', () => {
    expect(encodeDecimal('1234567890.1234', 14, 4).toString('hex')).toBe('810dfb38d204d2');
    expect(encodeDecimal('-1234567890.1234', 14, 4).toString('hex')).toBe('7ef204c72dfb2d');
    expect(roundTrip({ type: 'decimal', precision: 14, scale: 4 }, '-1234567890.1234')).toBe(
      '-1234567890.1234',
    );
  });

  it.each<[number, number, string]>([
    [10, 2, '12345678.90'],
    [10, 2, '-0.01'],
    [10, 2, '0.00'],
    [9, 0, '999999999'],
    [9, 0, '-999999999'],
    [10, 0, '1000000000'],
    [5, 5, '0.12345'],
    [5, 5, '-0.00001'],
    [1, 0, '7'],
    [18, 9, '123456789.123456789'],
    [19, 9, '-1234567890.000000001'],
    [12, 4, '-12345.6789'],
    [4, 2, '-9.99'],
    [65, 30, '-12345678901234567890123456789012345.123456789012345678901234567891'],
    [65, 30, '0.000000000000000000000000000001'],
    [65, 0, '99999999999999999999999999999999999999999999999999999999999999999'],
    [38, 10, '1000000000000000000000000000.0000000001'],
  ])('DECIMAL(%i,%i) %s', (precision, scale, v) => {
    expect(roundTrip({ type: 'decimal', precision, scale }, v)).toBe(v);
  });

  it('keeps every scale digit and drops leading zeros', () => {
    expect(roundTrip({ type: 'decimal', precision: 12, scale: 4 }, '00012.5')).toBe('12.5000');
  });
});

describe('strings', () => {
  it('VARCHAR with a 1-byte length (max < 256 bytes) and a 2-byte length', () => {
    expect(text(roundTrip({ type: 'varchar', maxBytes: 255 }, 'x'.repeat(255)))).toBe('x'.repeat(255));
    expect(text(roundTrip({ type: 'varchar', maxBytes: 256 }, 'y'.repeat(300)))).toBe('y'.repeat(300));
    expect(text(roundTrip({ type: 'varchar', maxBytes: 65535 }, ''))).toBe('');
  });

  it('CHAR, also longer than 255 bytes (two bits of the length live in the type byte)', () => {
    expect(text(roundTrip({ type: 'char', maxBytes: 10 }, 'abc'))).toBe('abc');
    expect(text(roundTrip({ type: 'char', maxBytes: 400 }, 'é'.repeat(100)))).toBe('é'.repeat(100));
    expect(text(roundTrip({ type: 'char', maxBytes: 1020 }, 'z'.repeat(1020)))).toBe('z'.repeat(1020));
  });

  it.each([1, 2, 3, 4] as const)('BLOB with a %i-byte length', (lengthBytes) => {
    const data = Buffer.alloc([0, 255, 65535, 70000, 70000][lengthBytes], 7);
    const v = roundTrip({ type: 'blob', lengthBytes }, data) as StringValue;
    expect(v).toBeInstanceOf(StringValue);
    expect(v.bytes).toEqual(data);
  });

  it('exposes bytes exactly, decodes text lazily, and follows the column charset', () => {
    const cols: ColumnDef[] = [
      { type: 'varchar', maxBytes: 10 },
      { type: 'blob' },
      { type: 'char', maxBytes: 4 },
    ];
    const metadata = {
      defaultCharset: {
        defaultCollation: 45,
        exceptions: [
          { charColumn: 1, collation: 63 },
          { charColumn: 2, collation: 8 },
        ],
      },
    };
    const row = decodeBuilt(cols, [{ after: ['ü', Buffer.of(0, 0xff), Buffer.of(0xe9)] }], { metadata })[0]
      .after!;
    const [a, b, c] = row as StringValue[];
    expect([a.text, a.binary, a.encoding]).toEqual(['ü', false, 'utf8']);
    expect([b.bytes, b.binary]).toEqual([Buffer.of(0, 0xff), true]);
    expect([c.text, c.encoding]).toEqual(['é', 'latin1']);
    expect(JSON.stringify(a)).toBe('"ü"');
  });
});

describe('ENUM, SET, BIT', () => {
  it("ENUM: the 1-based index without metadata, the member name with it ('' for index 0)", () => {
    const cols: ColumnDef[] = [{ type: 'enum' }, { type: 'enum', size: 2 }, { type: 'enum' }];
    const values: CellInput[] = [2, 300, 0];
    expect(decodeBuilt(cols, [{ after: values }])[0].after).toEqual([2, 300, 0]);
    const names = Array.from({ length: 300 }, (_, i) => `m${i + 1}`);
    const metadata = { enumValues: [['a', 'b'], names, ['x']] };
    expect(decodeBuilt(cols, [{ after: values }], { metadata })[0].after).toEqual(['b', 'm300', '']);
  });

  it('SET: the bitmap as bigint without metadata, member names with it; 1 to 8 bytes', () => {
    const cols: ColumnDef[] = [{ type: 'set' }, { type: 'set', size: 8 }];
    const values: CellInput[] = [0b101n, (1n << 63n) | 1n];
    expect(decodeBuilt(cols, [{ after: values }])[0].after).toEqual(values);
    const big = Array.from({ length: 64 }, (_, i) => `s${i}`);
    const metadata = { setValues: [['x', 'y', 'z'], big] };
    expect(decodeBuilt(cols, [{ after: values }], { metadata })[0].after).toEqual([
      ['x', 'z'],
      ['s0', 's63'],
    ]);
  });

  it.each<[number, bigint]>([
    [1, 1n],
    [3, 0b100n],
    [8, 0x20n],
    [13, 0b1010101010101n],
    [64, (1n << 64n) - 1n],
  ])('BIT(%i) %s', (bits, v) => {
    expect(roundTrip({ type: 'bit', bits }, v)).toBe(v);
  });
});

describe('temporal types', () => {
  it.each(['2024-02-29', '0000-00-00', '9999-12-31', '1000-01-01'])('DATE %s', (v) => {
    expect(roundTrip({ type: 'date' }, v)).toBe(v);
  });

  it.each<[number, string]>([
    [0, '2024-02-29 13:14:15'],
    [1, '1999-12-31 23:59:59.9'],
    [2, '1999-12-31 23:59:59.99'],
    [3, '2024-02-29 13:14:15.123'],
    [4, '2024-02-29 13:14:15.0001'],
    [5, '2024-02-29 13:14:15.00001'],
    [6, '9999-12-31 23:59:59.999999'],
    [6, '0000-00-00 00:00:00.000000'],
    [0, '1000-01-01 00:00:00'],
  ])('DATETIME(%i) %s', (fsp, v) => {
    expect(roundTrip({ type: 'datetime2', fsp }, v)).toBe(v);
  });

  it.each<[number, string]>([
    [0, '1970-01-01 00:00:01'],
    [0, '0000-00-00 00:00:00'],
    [3, '2024-02-29 13:14:15.789'],
    [6, '2038-01-19 03:14:07.999999'],
    [2, '2000-02-29 00:00:00.01'],
    [0, '2100-03-01 12:00:00'],
  ])('TIMESTAMP(%i) %s (UTC)', (fsp, v) => {
    expect(roundTrip({ type: 'timestamp2', fsp }, v)).toBe(v);
  });

  const times: [number, string][] = [];
  for (const [fsp, frac] of [
    [0, ''],
    [1, '.9'],
    [2, '.25'],
    [3, '.001'],
    [4, '.0001'],
    [5, '.99999'],
    [6, '.000001'],
  ] as const) {
    for (const base of ['00:00:00', '00:00:01', '12:34:56', '838:59:58']) {
      times.push([fsp, `${base}${frac}`], [fsp, `-${base}${frac}`]);
    }
  }
  times.push([0, '838:59:59'], [0, '-838:59:59'], [6, '-838:59:58.999999']);
  it.each(times.filter(([, v]) => v !== '-00:00:00'))('TIME(%i) %s', (fsp, v) => {
    expect(roundTrip({ type: 'time2', fsp }, v)).toBe(v);
  });

  it('pre-5.6.4 TIME, DATETIME and TIMESTAMP', () => {
    expect(roundTrip({ type: 'time' }, '-12:34:56')).toBe('-12:34:56');
    expect(roundTrip({ type: 'time' }, '838:59:59')).toBe('838:59:59');
    expect(roundTrip({ type: 'datetime' }, '2006-02-15 04:34:33')).toBe('2006-02-15 04:34:33');
    expect(roundTrip({ type: 'datetime' }, '0000-00-00 00:00:00')).toBe('0000-00-00 00:00:00');
    expect(roundTrip({ type: 'timestamp' }, '2006-02-15 03:34:33')).toBe('2006-02-15 03:34:33');
  });
});

describe('JSON, GEOMETRY, VECTOR, unknown types', () => {
  it('MySQL JSON becomes { kind: "json", value } (JSON null is not SQL NULL)', () => {
    const doc = { a: [1, 2, { b: null }], s: 'é', big: 2n ** 62n, f: 1.5 };
    const row = decodeBuilt(
      [{ type: 'json' }, { type: 'json' }, { type: 'json' }],
      [{ after: [doc, null, Buffer.alloc(0)] }],
    );
    expect(row[0].after![0]).toEqual({ kind: 'json', value: doc });
    expect(row[0].after![1]).toBeNull();
    expect(row[0].after![2]).toEqual({ kind: 'json', value: null });
  });

  it('an empty JSON value is JSON null, as in MySQL', () => {
    expect(roundTrip({ type: 'json' }, Buffer.alloc(0))).toEqual({ kind: 'json', value: null });
  });

  it('GEOMETRY and VECTOR come back raw with their type', () => {
    const wkb = Buffer.from('000000000101000000000000000000f03f0000000000000040', 'hex');
    expect(roundTrip({ type: 'geometry', lengthBytes: 4 }, wkb)).toEqual({
      kind: 'raw',
      type: 255,
      raw: wkb,
    });
    const vec = Buffer.alloc(12, 1);
    expect(roundTrip({ type: 'vector', lengthBytes: 4 }, vec)).toEqual({ kind: 'raw', type: 242, raw: vec });
  });
});
