/**
 * Builders for row values: a column list gives the TABLE_MAP types and metadata, and row images are
 * encoded from the same JS values the decoder returns (strings for DECIMAL and temporal types, bigint
 * for BIGINT/BIT/SET bitmaps), so tests can round-trip every type. Layouts: rows/cell.ts,
 * rows/temporal.ts, rows/decimal.ts, rows/decode.ts. Re-exported by builder.ts.
 */
import { packedInt } from './encoding.js';
import { encodeJsonBinary, encodeJsonDiffs, type JsonInput } from './json.js';
import { ColumnType } from '../../../src/binlog/events/table-map.js';
import type { DefaultCharset, TableMapOptionalMetadata } from '../../../src/binlog/events/types.js';
import type { JsonDiff } from '../../../src/binlog/rows/values.js';

export type ColumnDef =
  | { type: 'tiny' | 'short' | 'int24' | 'long' | 'longlong' }
  | { type: 'float' | 'double' | 'year' | 'date' | 'time' | 'datetime' | 'timestamp' | 'json' | 'null' }
  | { type: 'decimal'; precision: number; scale: number }
  | { type: 'varchar' | 'char'; maxBytes: number }
  | { type: 'blob' | 'geometry' | 'vector'; lengthBytes?: 1 | 2 | 3 | 4 }
  | { type: 'enum'; size?: 1 | 2 }
  | { type: 'set'; size?: number }
  | { type: 'bit'; bits: number }
  | { type: 'timestamp2' | 'datetime2' | 'time2'; fsp?: number }
  /** Any type byte with raw metadata bytes (for unknown types). */
  | { type: 'raw'; code: number; meta?: number[] };

/** A value to encode: `undefined` = column absent from the image, `null` = SQL NULL. */
export type CellInput = null | undefined | number | bigint | string | Buffer | JsonInput | JsonDiffsInput;

/** A partial JSON value (PARTIAL_UPDATE_ROWS after image). */
export interface JsonDiffsInput {
  $jsonDiffs: JsonDiff[];
}

/** TABLE_MAP column types and metadata for `buildTableMap`. */
export function tableMapColumns(cols: readonly ColumnDef[]): {
  columnTypes: number[];
  columnMetaRaw: Buffer;
} {
  const types: number[] = [];
  const meta: number[] = [];
  for (const c of cols) {
    switch (c.type) {
      case 'decimal':
        types.push(ColumnType.NEWDECIMAL);
        meta.push(c.precision, c.scale);
        break;
      case 'varchar':
        types.push(ColumnType.VARCHAR);
        meta.push(c.maxBytes & 0xff, c.maxBytes >> 8);
        break;
      case 'char':
        // Real type in byte 0; lengths above 255 keep two inverted bits of the length there.
        types.push(ColumnType.STRING);
        meta.push(ColumnType.STRING ^ ((c.maxBytes >> 4) & 0x30), c.maxBytes & 0xff);
        break;
      case 'enum':
      case 'set':
        types.push(ColumnType.STRING);
        meta.push(c.type === 'enum' ? ColumnType.ENUM : ColumnType.SET, c.size ?? 1);
        break;
      case 'bit':
        types.push(ColumnType.BIT);
        meta.push(c.bits % 8, c.bits >> 3);
        break;
      case 'blob':
      case 'geometry':
      case 'vector':
        types.push(
          { blob: ColumnType.BLOB, geometry: ColumnType.GEOMETRY, vector: ColumnType.VECTOR }[c.type],
        );
        meta.push(c.lengthBytes ?? 2);
        break;
      case 'json':
        types.push(ColumnType.JSON);
        meta.push(4);
        break;
      case 'float':
      case 'double':
        types.push(c.type === 'float' ? ColumnType.FLOAT : ColumnType.DOUBLE);
        meta.push(c.type === 'float' ? 4 : 8);
        break;
      case 'timestamp2':
      case 'datetime2':
      case 'time2':
        types.push(
          { timestamp2: ColumnType.TIMESTAMP2, datetime2: ColumnType.DATETIME2, time2: ColumnType.TIME2 }[
            c.type
          ],
        );
        meta.push(c.fsp ?? 0);
        break;
      case 'raw':
        types.push(c.code);
        meta.push(...(c.meta ?? []));
        break;
      default:
        types.push(SIMPLE[c.type]);
    }
  }
  return { columnTypes: types, columnMetaRaw: Buffer.from(meta) };
}

const SIMPLE: Record<string, number> = {
  tiny: ColumnType.TINY,
  short: ColumnType.SHORT,
  int24: ColumnType.INT24,
  long: ColumnType.LONG,
  longlong: ColumnType.LONGLONG,
  year: ColumnType.YEAR,
  date: ColumnType.DATE,
  time: ColumnType.TIME,
  datetime: ColumnType.DATETIME,
  timestamp: ColumnType.TIMESTAMP,
  null: ColumnType.NULL,
};

/** Bitmap (LSB first) of the columns whose value is not `undefined`. */
export function presentBitmap(values: readonly CellInput[]): Buffer {
  const b = Buffer.alloc((values.length + 7) >>> 3);
  values.forEach((v, i) => {
    if (v !== undefined) b[i >>> 3] |= 1 << (i & 7);
  });
  return b;
}

/** One row image: null bitmap over the present columns, then their non-NULL values. */
export function encodeRowImage(cols: readonly ColumnDef[], values: readonly CellInput[]): Buffer {
  const present = values.flatMap((v, i) => (v === undefined ? [] : [i]));
  const nulls = Buffer.alloc((present.length + 7) >>> 3);
  const parts: Buffer[] = [nulls];
  present.forEach((i, k) => {
    const v = values[i];
    if (v === null) nulls[k >>> 3] |= 1 << (k & 7);
    else parts.push(encodeCell(cols[i], v as Exclude<CellInput, null | undefined>));
  });
  return Buffer.concat(parts);
}

function encodeCell(col: ColumnDef, v: Exclude<CellInput, null | undefined>): Buffer {
  switch (col.type) {
    case 'tiny':
      return intLE(v, 1);
    case 'short':
      return intLE(v, 2);
    case 'int24':
      return intLE(v, 3);
    case 'long':
      return intLE(v, 4);
    case 'longlong': {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v as number | bigint)), 0);
      return b;
    }
    case 'float':
    case 'double': {
      const b = Buffer.alloc(col.type === 'float' ? 4 : 8);
      if (col.type === 'float') b.writeFloatLE(v as number, 0);
      else b.writeDoubleLE(v as number, 0);
      return b;
    }
    case 'year':
      return Buffer.of(v === 0 ? 0 : (v as number) - 1900);
    case 'null':
      return Buffer.alloc(0);
    case 'decimal':
      return encodeDecimal(v as string, col.precision, col.scale);
    case 'varchar':
    case 'char':
      return lengthPrefixed(bytesOf(v), col.maxBytes > 255 ? 2 : 1);
    case 'blob':
    case 'geometry':
    case 'vector':
      return lengthPrefixed(bytesOf(v), col.lengthBytes ?? 2);
    case 'json': {
      const diffs =
        typeof v === 'object' && v !== null && '$jsonDiffs' in v
          ? (v as JsonDiffsInput).$jsonDiffs
          : undefined;
      // A Buffer is taken as binary JSON already encoded (or empty: MySQL's JSON null).
      const bytes = Buffer.isBuffer(v)
        ? v
        : diffs
          ? encodeJsonDiffs(diffs)
          : encodeJsonBinary(v as JsonInput);
      return lengthPrefixed(bytes, 4);
    }
    case 'enum':
      return uintLE(BigInt(v as number), col.size ?? 1);
    case 'set':
      return uintLE(BigInt(v as number | bigint), col.size ?? 1);
    case 'bit': {
      const n = (col.bits + 7) >> 3;
      const b = Buffer.alloc(n);
      let x = BigInt(v as number | bigint);
      for (let k = n - 1; k >= 0; k--, x >>= 8n) b[k] = Number(x & 0xffn);
      return b;
    }
    case 'raw':
      return v as Buffer;
    default:
      return encodeTemporal(col, v as string);
  }
}

function intLE(v: unknown, n: number): Buffer {
  return uintLE(BigInt.asUintN(n * 8, BigInt(v as number | bigint)), n);
}

function uintLE(v: bigint, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let k = 0; k < n; k++, v >>= 8n) b[k] = Number(v & 0xffn);
  return b;
}

function bytesOf(v: unknown): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.from(v as string, 'utf8');
}

function lengthPrefixed(data: Buffer, prefix: number): Buffer {
  const b = Buffer.alloc(prefix);
  b.writeUIntLE(data.length, 0, prefix);
  return Buffer.concat([b, data]);
}

const DIG2BYTES = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];

export function encodeDecimal(text: string, precision: number, scale: number): Buffer {
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!m) throw new Error(`not a decimal: ${text}`);
  const negative = m[1] === '-';
  const intg = precision - scale;
  const intDigits = (m[2] ?? '').replace(/^0+/, '').padStart(intg, '0');
  const fracDigits = (m[3] ?? '').padEnd(scale, '0').slice(0, scale);
  if (intDigits.length > intg) throw new Error(`${text} does not fit DECIMAL(${precision},${scale})`);
  const out: number[] = [];
  const push = (digits: string): void => {
    const n = DIG2BYTES[digits.length] ?? 4;
    const v = digits === '' ? 0 : Number(digits);
    for (let k = n - 1; k >= 0; k--) out.push(Math.floor(v / 256 ** k) % 256);
  };
  const lead = intg % 9;
  if (lead > 0) push(intDigits.slice(0, lead));
  for (let p = lead; p < intg; p += 9) push(intDigits.slice(p, p + 9));
  for (let p = 0; p + 9 <= scale; p += 9) push(fracDigits.slice(p, p + 9));
  if (scale % 9 > 0) push(fracDigits.slice(scale - (scale % 9)));
  const b = Buffer.from(out);
  b[0] ^= 0x80;
  if (negative) for (let k = 0; k < b.length; k++) b[k] ^= 0xff;
  return b;
}

const FRAC_BYTES = [0, 1, 1, 2, 2, 3, 3];

function encodeTemporal(col: ColumnDef, text: string): Buffer {
  const fsp = 'fsp' in col ? (col.fsp ?? 0) : 0;
  if (col.type === 'time2' || col.type === 'time') {
    const m = /^(-?)(\d+):(\d\d):(\d\d)(?:\.(\d+))?$/.exec(text);
    if (!m) throw new Error(`not a TIME: ${text}`);
    const neg = m[1] === '-';
    if (col.type === 'time') return intLE((neg ? -1 : 1) * Number(`${m[2]}${m[3]}${m[4]}`), 3);
    const micros = BigInt((m[5] ?? '').padEnd(6, '0').slice(0, 6));
    const hms = (BigInt(m[2]) << 12n) | (BigInt(m[3]) << 6n) | BigInt(m[4]);
    const magnitude = (hms << 24n) + truncateFraction(micros, fsp);
    return time2Bytes(neg ? -magnitude : magnitude, fsp);
  }
  const m = /^(\d{4})-(\d\d)-(\d\d)(?: (\d\d):(\d\d):(\d\d)(?:\.(\d+))?)?$/.exec(text);
  if (!m) throw new Error(`not a date/time: ${text}`);
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((k) => Number(m[k] ?? 0));
  const micros = Number((m[7] ?? '').padEnd(6, '0').slice(0, 6));
  if (col.type === 'date') return uintLE(BigInt((y << 9) | (mo << 5) | d), 3);
  if (col.type === 'datetime') return uintLE(BigInt(`${m[1]}${m[2]}${m[3]}${m[4]}${m[5]}${m[6]}`), 8);
  if (col.type === 'timestamp' || col.type === 'timestamp2') {
    const seconds = y === 0 ? 0 : Date.UTC(y, mo - 1, d, h, mi, s) / 1000;
    const head = Buffer.alloc(4);
    if (col.type === 'timestamp') {
      head.writeUInt32LE(seconds, 0);
      return head;
    }
    head.writeUInt32BE(seconds, 0);
    return Buffer.concat([head, fractionBytes(micros, fsp)]);
  }
  // DATETIME2
  const ymd = (((y * 13 + mo) << 5) | d) * 0x20000 + ((h << 12) | (mi << 6) | s);
  const head = Buffer.alloc(5);
  head.writeUIntBE(ymd + 0x8000000000, 0, 5);
  return Buffer.concat([head, fractionBytes(micros, fsp)]);
}

function truncateFraction(micros: bigint, fsp: number): bigint {
  const unit = 10n ** BigInt(6 - fsp);
  return (micros / unit) * unit;
}

function fractionBytes(micros: number, fsp: number): Buffer {
  const n = FRAC_BYTES[fsp] ?? 3;
  if (n === 0) return Buffer.alloc(0);
  const b = Buffer.alloc(n);
  b.writeUIntBE(Math.floor(micros / [1, 10000, 10000, 100, 100, 1, 1][fsp]), 0, n);
  return b;
}

/** MySQL my_time_packed_to_binary: integer part = floor(packed / 2^24), fraction = C remainder. */
function time2Bytes(packed: bigint, fsp: number): Buffer {
  if (fsp >= 5) {
    const b = Buffer.alloc(6);
    b.writeUIntBE(Number(packed + 0x800000000000n), 0, 6);
    return b;
  }
  const intpart = packed >> 24n;
  const frac = packed - (packed < 0n ? -((-packed >> 24n) << 24n) : (packed >> 24n) << 24n);
  const head = Buffer.alloc(3);
  head.writeUIntBE(Number(intpart + 0x800000n), 0, 3);
  if (fsp === 0) return head;
  const bytes = fsp >= 3 ? 2 : 1;
  const tail = Buffer.alloc(bytes);
  tail.writeUIntBE(Number(BigInt.asUintN(bytes * 8, frac / (bytes === 2 ? 100n : 10000n))), 0, bytes);
  return Buffer.concat([head, tail]);
}

/**
 * TABLE_MAP optional metadata TLVs (layout: events/table-map-metadata.ts) for the fields given, in
 * the order the server writes them.
 */
export function encodeOptionalMetadata(m: TableMapOptionalMetadata): Buffer {
  const parts: Buffer[] = [];
  const tlv = (type: number, value: Buffer): void => {
    parts.push(Buffer.of(type), packedInt(value.length), value);
  };
  const bitsMsbFirst = (bits: readonly boolean[]): Buffer => {
    const b = Buffer.alloc((bits.length + 7) >>> 3);
    bits.forEach((on, i) => {
      if (on) b[i >>> 3] |= 0x80 >> (i & 7);
    });
    return b;
  };
  const packedList = (xs: readonly number[]): Buffer => Buffer.concat(xs.map(packedInt));
  const charset = (d: DefaultCharset): Buffer =>
    Buffer.concat([
      packedInt(d.defaultCollation),
      ...d.exceptions.flatMap((e) => [packedInt(e.charColumn), packedInt(e.collation)]),
    ]);
  const str = (s: string): Buffer[] => {
    const b = Buffer.from(s, 'utf8');
    return [packedInt(b.length), b];
  };
  const lists = (ls: readonly (readonly string[])[]): Buffer =>
    Buffer.concat(ls.flatMap((l) => [packedInt(l.length), ...l.flatMap(str)]));
  if (m.signednessBits) tlv(1, bitsMsbFirst(m.signednessBits));
  if (m.defaultCharset) tlv(2, charset(m.defaultCharset));
  if (m.columnCharsets) tlv(3, packedList(m.columnCharsets));
  if (m.columnNames) tlv(4, Buffer.concat(m.columnNames.flatMap(str)));
  if (m.setValues) tlv(5, lists(m.setValues));
  if (m.enumValues) tlv(6, lists(m.enumValues));
  if (m.geometryTypes) tlv(7, packedList(m.geometryTypes));
  if (m.primaryKey) tlv(8, packedList(m.primaryKey.map((k) => k.column)));
  if (m.enumAndSetDefaultCharset) tlv(10, charset(m.enumAndSetDefaultCharset));
  if (m.enumAndSetColumnCharsets) tlv(11, packedList(m.enumAndSetColumnCharsets));
  if (m.columnVisibility) tlv(12, bitsMsbFirst(m.columnVisibility));
  return Buffer.concat(parts);
}
