/*
 * MySQL binary JSON (sql-common/json_binary.cc), all integers little-endian:
 *
 *   doc        := type(1) value                      an empty doc (0 bytes) is JSON null
 *   type       := 0x00 small object | 0x01 large object | 0x02 small array | 0x03 large array
 *               | 0x04 literal | 0x05 int16 | 0x06 uint16 | 0x07 int32 | 0x08 uint32 | 0x09 int64
 *               | 0x0a uint64 | 0x0b double | 0x0c string | 0x0f opaque
 *   object     := count size key-entry* value-entry* key* value*
 *   array      := count size value-entry* value*     count, size: u16 (small) or u32 (large)
 *   key-entry  := key-offset (u16|u32) key-length (u16)
 *   value-entry:= type(1) offset-or-inlined (u16|u32)   offsets count from the start of the container
 *                                                     (after its type byte); literals and 16-bit ints
 *                                                     are inlined, 32-bit ints too in large containers
 *   literal    := 0x00 null | 0x01 true | 0x02 false
 *   string     := varlen-length utf8mb4
 *   opaque     := field-type(1) varlen-length bytes  (a SQL value stored inside JSON)
 *   varlen     := 7 bits per byte, least significant first, high bit = more bytes (at most 5)
 *
 * Opaque values become what MySQL prints for them: DATE 'YYYY-MM-DD', DATETIME/TIMESTAMP
 * 'YYYY-MM-DD hh:mm:ss.ffffff', TIME 'hh:mm:ss.ffffff' (8-byte packed temporal), DECIMAL its exact
 * text (precision, scale, then the NEWDECIMAL bytes), anything else 'base64:type<N>:<base64>'.
 * int64/uint64 outside ±2^53 are bigints. Every offset is checked against its container.
 */
import { Cursor } from '../cursor.js';
import { BinlogDecodeError } from '../errors.js';
import { readDecimal } from './decimal.js';
import { packedDatetimeString, packedTimeString } from './temporal.js';
import type { JsonValue } from './values.js';

const MAX_DEPTH = 150;

const T = {
  SMALL_OBJECT: 0x00,
  LARGE_OBJECT: 0x01,
  SMALL_ARRAY: 0x02,
  LARGE_ARRAY: 0x03,
  LITERAL: 0x04,
  INT16: 0x05,
  UINT16: 0x06,
  INT32: 0x07,
  UINT32: 0x08,
  INT64: 0x09,
  UINT64: 0x0a,
  DOUBLE: 0x0b,
  STRING: 0x0c,
  OPAQUE: 0x0f,
} as const;

/** Decodes the binary JSON in buf[start, end). */
export function decodeJsonBinary(buf: Buffer, start = 0, end = buf.length): JsonValue {
  if (end <= start) return null;
  return value(buf, buf[start], start + 1, end, 0);
}

function fail(detail: string): never {
  throw new BinlogDecodeError('MALFORMED_EVENT', `binary JSON: ${detail}`);
}

function check(pos: number, n: number, end: number, what: string): void {
  if (pos + n > end) fail(`${what} needs ${n} bytes, ${Math.max(0, end - pos)} left`);
}

function value(buf: Buffer, type: number, pos: number, end: number, depth: number): JsonValue {
  switch (type) {
    case T.SMALL_OBJECT:
    case T.LARGE_OBJECT:
    case T.SMALL_ARRAY:
    case T.LARGE_ARRAY:
      if (depth >= MAX_DEPTH) fail(`nested deeper than ${MAX_DEPTH}`);
      return container(buf, type, pos, end, depth + 1);
    case T.LITERAL:
      check(pos, 1, end, 'literal');
      return literal(buf[pos]);
    case T.INT16:
      check(pos, 2, end, 'int16');
      return buf.readInt16LE(pos);
    case T.UINT16:
      check(pos, 2, end, 'uint16');
      return buf.readUInt16LE(pos);
    case T.INT32:
      check(pos, 4, end, 'int32');
      return buf.readInt32LE(pos);
    case T.UINT32:
      check(pos, 4, end, 'uint32');
      return buf.readUInt32LE(pos);
    case T.INT64:
      check(pos, 8, end, 'int64');
      return safe(buf.readBigInt64LE(pos));
    case T.UINT64:
      check(pos, 8, end, 'uint64');
      return safe(buf.readBigUInt64LE(pos));
    case T.DOUBLE:
      check(pos, 8, end, 'double');
      return buf.readDoubleLE(pos);
    case T.STRING: {
      const len = varlen(buf, pos, end);
      const at = varlenEnd;
      check(at, len, end, 'string');
      return buf.toString('utf8', at, at + len);
    }
    case T.OPAQUE: {
      check(pos, 1, end, 'opaque type');
      const len = varlen(buf, pos + 1, end);
      const at = varlenEnd;
      check(at, len, end, 'opaque value');
      return opaque(buf[pos], buf, at, at + len);
    }
    default:
      return fail(`unknown value type 0x${type.toString(16)}`);
  }
}

function literal(b: number): JsonValue {
  if (b === 0) return null;
  if (b === 1) return true;
  if (b === 2) return false;
  return fail(`unknown literal 0x${b.toString(16)}`);
}

function safe(v: bigint): number | bigint {
  return v >= -0x1fffffffffffffn && v <= 0x1fffffffffffffn ? Number(v) : v;
}

function container(buf: Buffer, type: number, pos: number, end: number, depth: number): JsonValue {
  const large = type === T.LARGE_OBJECT || type === T.LARGE_ARRAY;
  const isObject = type === T.SMALL_OBJECT || type === T.LARGE_OBJECT;
  const w = large ? 4 : 2;
  check(pos, 2 * w, end, 'container header');
  const count = large ? buf.readUInt32LE(pos) : buf.readUInt16LE(pos);
  const size = large ? buf.readUInt32LE(pos + w) : buf.readUInt16LE(pos + w);
  check(pos, size, end, 'container');
  const cend = pos + size;
  const keyEntries = pos + 2 * w;
  const valueEntries = keyEntries + (isObject ? count * (w + 2) : 0);
  check(valueEntries, count * (1 + w), cend, 'value entries');
  const values = new Array<JsonValue>(count);
  for (let i = 0; i < count; i++) {
    const e = valueEntries + i * (1 + w);
    const t = buf[e];
    if (t === T.LITERAL || t === T.INT16 || t === T.UINT16 || (large && (t === T.INT32 || t === T.UINT32))) {
      values[i] = value(buf, t, e + 1, cend, depth);
    } else {
      const offset = large ? buf.readUInt32LE(e + 1) : buf.readUInt16LE(e + 1);
      if (offset >= size) fail(`value offset ${offset} outside a container of ${size} bytes`);
      values[i] = value(buf, t, pos + offset, cend, depth);
    }
  }
  if (!isObject) return values;
  const out: { [key: string]: JsonValue } = {};
  for (let i = 0; i < count; i++) {
    const e = keyEntries + i * (w + 2);
    const offset = large ? buf.readUInt32LE(e) : buf.readUInt16LE(e);
    const len = buf.readUInt16LE(e + w);
    check(pos + offset, len, cend, 'key');
    const key = buf.toString('utf8', pos + offset, pos + offset + len);
    // A "__proto__" key must become an own property, not the object's prototype.
    if (key === '__proto__')
      Object.defineProperty(out, key, {
        value: values[i],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    else out[key] = values[i];
  }
  return out;
}

/** Set by `varlen`: the position after the length just read (saves allocating a pair per string). */
let varlenEnd = 0;

function varlen(buf: Buffer, pos: number, end: number): number {
  let v = 0;
  for (let k = 0; k < 5; k++) {
    check(pos + k, 1, end, 'length');
    const b = buf[pos + k];
    v += (b & 0x7f) * 2 ** (7 * k);
    if ((b & 0x80) === 0) {
      varlenEnd = pos + k + 1;
      return v;
    }
  }
  return fail('length longer than 5 bytes');
}

const DATE = 10;
const TIME = 11;
const DATETIME = 12;
const TIMESTAMP = 7;
const NEWDECIMAL = 246;

function opaque(fieldType: number, buf: Buffer, start: number, end: number): string {
  switch (fieldType) {
    case DATE:
    case DATETIME:
    case TIMESTAMP:
    case TIME: {
      if (end - start < 8) fail(`temporal value of ${end - start} bytes`);
      const packed = buf.readBigInt64LE(start);
      if (fieldType === TIME) return packedTimeString(packed);
      return packedDatetimeString(packed, fieldType === DATE ? 'date' : 'datetime');
    }
    case NEWDECIMAL: {
      if (end - start < 2) fail('decimal without precision and scale');
      const c = new Cursor(buf, start + 2, end);
      return readDecimal(c, buf[start], buf[start + 1]);
    }
    default:
      return `base64:type${fieldType}:${buf.toString('base64', start, end)}`;
  }
}
