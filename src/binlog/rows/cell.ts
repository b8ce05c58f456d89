/*
 * One non-NULL value of a row image. Sizes (MySQL calc_field_size):
 *   TINY 1 | SHORT 2 | INT24 3 | LONG 4 | LONGLONG 8 (LE two's complement; the sign is not stored)
 *   FLOAT 4 | DOUBLE 8 (LE IEEE) | YEAR 1 (+1900, 0 = zero year) | NULL type 0 bytes
 *   VARCHAR/VAR_STRING/CHAR: length (1 byte if the column's max bytes < 256, else 2 LE) + bytes
 *   BLOB/TEXT/GEOMETRY/JSON/VECTOR: length in `meta` (1-4) LE bytes + bytes
 *   ENUM 1-2 bytes LE index | SET 1-8 bytes LE bitmap | BIT (bits+7)/8 bytes big-endian
 *   MariaDB VARCHAR_COMPRESSED/BLOB_COMPRESSED: as VARCHAR/BLOB, the bytes compressed-column.ts
 *   NEWDECIMAL: decimal.ts | temporal types: temporal.ts
 * A type whose size is unknown (pre-5.0 DECIMAL, anything new) cannot be skipped, so it fails the
 * row with UNSUPPORTED rather than misreading every value after it.
 */
import type { Cursor } from '../cursor.js';
import { BinlogDecodeError } from '../errors.js';
import { ColumnType } from '../events/table-map.js';
import type { ColumnPlan } from './columns.js';
import { uncompressColumn } from './compressed-column.js';
import { readDecimal } from './decimal.js';
import { decodeJsonBinary } from './json-binary.js';
import { decodeJsonDiffs } from './json-diff.js';
import {
  readDate,
  readDatetime2,
  readDatetimeV1,
  readTime2,
  readTimestamp2,
  readTimestampV1,
  readTimeV1,
} from './temporal.js';
import { StringValue, type ColumnValue } from './values.js';

const WHAT = 'row value';

export function readValue(c: Cursor, col: ColumnPlan, partialJson: boolean): ColumnValue {
  const buf = c.buf;
  switch (col.type) {
    case ColumnType.TINY:
      c.need(1, WHAT);
      return col.unsigned ? buf[c.pos++] : (buf[c.pos++] << 24) >> 24;
    case ColumnType.SHORT: {
      c.need(2, WHAT);
      const v = col.unsigned ? buf.readUInt16LE(c.pos) : buf.readInt16LE(c.pos);
      c.pos += 2;
      return v;
    }
    case ColumnType.INT24: {
      c.need(3, WHAT);
      const v = col.unsigned ? buf.readUIntLE(c.pos, 3) : buf.readIntLE(c.pos, 3);
      c.pos += 3;
      return v;
    }
    case ColumnType.LONG: {
      c.need(4, WHAT);
      const v = col.unsigned ? buf.readUInt32LE(c.pos) : buf.readInt32LE(c.pos);
      c.pos += 4;
      return v;
    }
    case ColumnType.LONGLONG: {
      c.need(8, WHAT);
      const v = col.unsigned ? buf.readBigUInt64LE(c.pos) : buf.readBigInt64LE(c.pos);
      c.pos += 8;
      return v;
    }
    case ColumnType.FLOAT: {
      c.need(4, WHAT);
      const v = buf.readFloatLE(c.pos);
      c.pos += 4;
      return v;
    }
    case ColumnType.DOUBLE: {
      c.need(8, WHAT);
      const v = buf.readDoubleLE(c.pos);
      c.pos += 8;
      return v;
    }
    case ColumnType.YEAR: {
      c.need(1, WHAT);
      const v = buf[c.pos++];
      return v === 0 ? 0 : v + 1900;
    }
    case ColumnType.NULL:
      return null;
    case ColumnType.NEWDECIMAL:
      return readDecimal(c, col.precision, col.scale);
    case ColumnType.DATE:
    case ColumnType.NEWDATE:
      return readDate(c);
    case ColumnType.TIME:
      return readTimeV1(c);
    case ColumnType.DATETIME:
      return readDatetimeV1(c);
    case ColumnType.TIMESTAMP:
      return readTimestampV1(c);
    case ColumnType.TIMESTAMP2:
      return readTimestamp2(c, col.precision);
    case ColumnType.DATETIME2:
      return readDatetime2(c, col.precision);
    case ColumnType.TIME2:
      return readTime2(c, col.precision);
    case ColumnType.VARCHAR:
    case ColumnType.VAR_STRING:
    case ColumnType.STRING:
    case ColumnType.TINY_BLOB:
    case ColumnType.MEDIUM_BLOB:
    case ColumnType.LONG_BLOB:
    case ColumnType.BLOB:
      return new StringValue(lengthPrefixed(c, col.length), col.binary, col.encoding);
    case ColumnType.VARCHAR_COMPRESSED:
    case ColumnType.BLOB_COMPRESSED:
      return new StringValue(uncompressColumn(lengthPrefixed(c, col.length)), col.binary, col.encoding);
    case ColumnType.ENUM:
      return readEnum(c, col);
    case ColumnType.SET:
      return readSet(c, col);
    case ColumnType.BIT: {
      c.need(col.length, WHAT);
      let v = 0n;
      for (let k = 0; k < col.length; k++) v = (v << 8n) | BigInt(buf[c.pos + k]);
      c.pos += col.length;
      return v;
    }
    case ColumnType.JSON: {
      const len = readLength(c, col.length);
      const start = c.pos;
      const end = (c.pos += len);
      return partialJson
        ? { kind: 'json_diff', diffs: decodeJsonDiffs(buf, start, end) }
        : { kind: 'json', value: decodeJsonBinary(buf, start, end) };
    }
    case ColumnType.GEOMETRY:
    case ColumnType.VECTOR:
      return { kind: 'raw', type: col.type, raw: lengthPrefixed(c, col.length) };
    default:
      throw new BinlogDecodeError(
        'UNSUPPORTED',
        `column ${col.index + 1} has type ${col.type}, whose size in a row is unknown`,
      );
  }
}

function lengthPrefixed(c: Cursor, prefix: number): Buffer {
  return c.bytes(readLength(c, prefix), WHAT);
}

/** Reads a 1-4 byte little-endian length and checks that many bytes follow. */
function readLength(c: Cursor, prefix: number): number {
  if (prefix < 1 || prefix > 4) {
    throw new BinlogDecodeError('MALFORMED_EVENT', `column length prefix of ${prefix} bytes`);
  }
  c.need(prefix, WHAT);
  const len = c.buf.readUIntLE(c.pos, prefix);
  c.pos += prefix;
  c.need(len, WHAT);
  return len;
}

function readEnum(c: Cursor, col: ColumnPlan): number | string {
  if (col.length !== 1 && col.length !== 2) {
    throw new BinlogDecodeError('MALFORMED_EVENT', `ENUM of ${col.length} bytes`);
  }
  c.need(col.length, WHAT);
  const index = c.buf.readUIntLE(c.pos, col.length);
  c.pos += col.length;
  if (!col.names) return index;
  // Index 0 is the "invalid value" MySQL stores as ''.
  return index === 0 ? '' : (col.names[index - 1] ?? `${index}`);
}

function readSet(c: Cursor, col: ColumnPlan): bigint | string[] {
  if (col.length < 1 || col.length > 8) {
    throw new BinlogDecodeError('MALFORMED_EVENT', `SET of ${col.length} bytes`);
  }
  c.need(col.length, WHAT);
  let bits = 0n;
  for (let k = col.length - 1; k >= 0; k--) bits = (bits << 8n) | BigInt(c.buf[c.pos + k]);
  c.pos += col.length;
  if (!col.names) return bits;
  const members: string[] = [];
  for (let i = 0; i < col.names.length; i++) if ((bits >> BigInt(i)) & 1n) members.push(col.names[i]);
  return members;
}
