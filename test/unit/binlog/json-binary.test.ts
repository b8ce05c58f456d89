/**
 * MySQL binary JSON: hand-made documents, every scalar width, both container formats, opaque values,
 * seeded round trips through the encoder, and garbage that must fail with MALFORMED_EVENT only.
 */
import { describe, expect, it } from 'vitest';
import { encodeJsonBinary, encodeDecimal, type JsonInput } from '../../helpers/binlog/index.js';
import { BinlogDecodeError, decodeJsonBinary, type JsonValue } from '../../../src/binlog/index.js';

class Rng {
  constructor(private s: number) {}
  next(): number {
    this.s = (this.s + 0x6d2b79f5) | 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

const decode = (b: Buffer): JsonValue => decodeJsonBinary(b);

describe('binary JSON', () => {
  it('decodes a hand-assembled small object (the layout in json-binary.ts)', () => {
    // {"a": 1, "bc": "xy"}: count 2, size 24, key entries (offset 18 length 1, offset 19 length 2),
    // value entries (int16 1 inlined; string at offset 21), keys "a" "bc", string: length 2 + "xy".
    const doc = Buffer.from(
      [
        '00',
        '0200',
        '1800',
        '1200',
        '0100',
        '1300',
        '0200',
        '05',
        '0100',
        '0c',
        '1500',
        '61',
        '6263',
        '02',
        '7879',
      ].join(''),
      'hex',
    );
    expect(decode(doc)).toEqual({ a: 1, bc: 'xy' });
  });

  it('scalars at every width', () => {
    const cases: JsonInput[] = [
      null,
      true,
      false,
      -32768,
      32767,
      65535,
      -2147483648,
      4294967295,
      2 ** 53 - 1,
      -(2 ** 53) + 1,
      -(1n << 63n),
      (1n << 64n) - 1n,
      0.5,
      -1e308,
      '',
      'é😀',
      'x'.repeat(200000),
    ];
    for (const v of cases) expect(decode(encodeJsonBinary(v))).toEqual(v);
  });

  it('small and large containers, nesting, duplicate-looking and special keys', () => {
    const doc = {
      a: [1, [2, [3, { b: null }]]],
      '': 0,
      __proto__: 'own key',
      é: { big: 70000, neg: -70000 },
    };
    expect(decode(encodeJsonBinary(doc))).toEqual(doc);
    expect(decode(encodeJsonBinary(doc, { large: true }))).toEqual(doc);
    expect(Object.getPrototypeOf(decode(encodeJsonBinary(doc)))).toBe(Object.prototype);
    // Over 64 KB the encoder has to switch to the large format by itself.
    const wide = Array.from({ length: 5000 }, (_, i) => ({ [`k${i}`]: `v${i}`.repeat(3) }));
    const bytes = encodeJsonBinary(wide);
    expect(bytes[0]).toBe(0x03);
    expect(decode(bytes)).toEqual(wide);
  });

  it('opaque SQL values print as MySQL prints them', () => {
    const packed = (v: bigint): Buffer => {
      const b = Buffer.alloc(8);
      b.writeBigInt64LE(v, 0);
      return b;
    };
    const ymd = ((2012n * 13n + 3n) << 5n) | 18n;
    const hms = (11n << 12n) | (30n << 6n) | 45n;
    const datetime = ((ymd << 17n) | hms) << 24n;
    const time = (((87n << 12n) | (31n << 6n) | 46n) << 24n) + 654321n;
    const doc = {
      date: { $opaque: 10, data: packed(ymd << 41n) },
      datetime: { $opaque: 12, data: packed(datetime + 5n) },
      timestamp: { $opaque: 7, data: packed(datetime) },
      time: { $opaque: 11, data: packed(time) },
      negTime: { $opaque: 11, data: packed(-time) },
      decimal: { $opaque: 246, data: Buffer.concat([Buffer.of(10, 2), encodeDecimal('-12.50', 10, 2)]) },
      blob: { $opaque: 252, data: Buffer.from('U') },
    };
    expect(decode(encodeJsonBinary(doc))).toEqual({
      date: '2012-03-18',
      datetime: '2012-03-18 11:30:45.000005',
      timestamp: '2012-03-18 11:30:45.000000',
      time: '87:31:46.654321',
      negTime: '-87:31:46.654321',
      decimal: '-12.50',
      blob: 'base64:type252:VQ==',
    });
  });

  it('round-trips 500 random documents in both formats (seed 20261121)', () => {
    const rng = new Rng(20261121);
    const gen = (depth: number): JsonInput => {
      switch (rng.int(depth > 3 ? 6 : 8)) {
        case 0:
          return null;
        case 1:
          return rng.int(2) === 0;
        case 2:
          return rng.int(2 ** 31) - 2 ** 30;
        case 3:
          return rng.next() * 1e6 - 5e5;
        case 4:
          return BigInt(rng.int(2 ** 30)) << BigInt(rng.int(34));
        case 5:
          return String.fromCharCode(...Array.from({ length: rng.int(20) }, () => 32 + rng.int(0x2000)));
        case 6:
          return Array.from({ length: rng.int(6) }, () => gen(depth + 1));
        default:
          return Object.fromEntries(
            Array.from({ length: rng.int(6) }, (_, i) => [`k${i}${rng.int(100)}`, gen(depth + 1)]),
          );
      }
    };
    const normal = (v: JsonInput): unknown =>
      typeof v === 'bigint' && v >= -(2n ** 53n) + 1n && v <= 2n ** 53n - 1n
        ? Number(v)
        : Array.isArray(v)
          ? v.map(normal)
          : v !== null && typeof v === 'object' && !('$opaque' in v)
            ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normal(x)]))
            : v;
    for (let i = 0; i < 500; i++) {
      const doc = gen(0);
      expect(decode(encodeJsonBinary(doc))).toEqual(normal(doc));
      expect(decode(encodeJsonBinary(doc, { large: true }))).toEqual(normal(doc));
    }
  });

  it('broken documents fail with MALFORMED_EVENT, whatever the bytes (seed 7, 20000 cases)', () => {
    const good = encodeJsonBinary({ a: [1, 'two', { three: 3.5, four: [null, true] }], b: 'x'.repeat(40) });
    const rng = new Rng(7);
    let failed = 0;
    for (let i = 0; i < 20000; i++) {
      const b = Buffer.from(good.subarray(0, 1 + rng.int(good.length)));
      for (let k = rng.int(4); k >= 0; k--) b[rng.int(b.length)] = rng.int(256);
      try {
        decodeJsonBinary(b);
      } catch (err) {
        expect(err).toBeInstanceOf(BinlogDecodeError);
        expect((err as BinlogDecodeError).code).toBe('MALFORMED_EVENT');
        failed++;
      }
    }
    expect(failed).toBeGreaterThan(10000);
  });

  it('names the problem', () => {
    const err = (b: Buffer): string => {
      try {
        decodeJsonBinary(b);
      } catch (e) {
        return (e as BinlogDecodeError).detail;
      }
      return 'no error';
    };
    expect(err(Buffer.of(0x0e))).toBe('binary JSON: unknown value type 0xe');
    expect(err(Buffer.of(0x04, 0x09))).toBe('binary JSON: unknown literal 0x9');
    expect(err(Buffer.of(0x02, 0x01, 0x00, 0x40, 0x00))).toBe(
      'binary JSON: container needs 64 bytes, 4 left',
    );
    expect(err(Buffer.of(0x0c, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01))).toBe(
      'binary JSON: length longer than 5 bytes',
    );
    let deep = encodeJsonBinary([]);
    for (let i = 0; i < 200; i++)
      deep = Buffer.concat([
        Buffer.of(0x02, 1, 0),
        u16(deep.length + 6),
        Buffer.of(0x02),
        u16(7),
        deep.subarray(1),
      ]);
    expect(err(deep)).toBe('binary JSON: nested deeper than 150');
  });
});

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n, 0);
  return b;
}
