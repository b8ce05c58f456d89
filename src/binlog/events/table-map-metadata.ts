import { Cursor } from '../cursor.js';
import type { DefaultCharset, TableMapOptionalMetadata } from './types.js';

/*
 * TABLE_MAP optional metadata: TLVs to the end of the event, each type u8 | length packed | value.
 *   1 SIGNEDNESS bitmap (MSB first, one bit per numeric column)
 *   2 DEFAULT_CHARSET / 10 ENUM_AND_SET_DEFAULT_CHARSET: default packed, then (char column packed,
 *     collation packed) pairs for the exceptions
 *   3 COLUMN_CHARSET / 11 ENUM_AND_SET_COLUMN_CHARSET: one packed collation per (enum/set) character column
 *   4 COLUMN_NAME: per column, length u8 + name
 *   5 SET_STR_VALUE / 6 ENUM_STR_VALUE: per column, count packed + count × (length packed + bytes)
 *   7 GEOMETRY_TYPE: one packed per geometry column
 *   8 SIMPLE_PRIMARY_KEY: packed column indexes
 *   9 PRIMARY_KEY_WITH_PREFIX: (column packed, prefix length packed) pairs
 *   12 COLUMN_VISIBILITY bitmap (MSB first, one bit per column)
 *   13 VECTOR_DIMENSIONALITY: one packed per vector column
 * A malformed or unknown TLV never fails the TABLE_MAP: unknown types are kept raw, and a TLV whose
 * value does not parse is kept raw as well.
 */
export function decodeOptionalMetadata(raw: Buffer, columnCount: number): TableMapOptionalMetadata {
  const out: TableMapOptionalMetadata = {};
  const c = new Cursor(raw);
  try {
    while (c.remaining > 0) {
      const type = c.u8('metadata type');
      const len = c.packed('metadata length');
      const value = new Cursor(c.buf, c.pos, c.pos + len);
      c.skip(len, 'metadata value');
      if (!decodeEntry(out, type, value, columnCount)) {
        (out.unknown ??= []).push({ type, value: raw.subarray(value.pos, value.end) });
      }
    }
  } catch {
    // A TLV header running past the event: keep what was decoded; the raw bytes stay available.
  }
  return out;
}

function decodeEntry(out: TableMapOptionalMetadata, type: number, v: Cursor, columnCount: number): boolean {
  const start = v.pos;
  try {
    switch (type) {
      case 1:
        // One bit per numeric column, in whole bytes: never more bits than columns rounded up (a
        // corrupt length would otherwise make 64 bytes of booleans out of every byte of the event).
        out.signednessBits = bits(v.rest(), Math.ceil(columnCount / 8) * 8);
        return true;
      case 2:
        out.defaultCharset = defaultCharset(v);
        return true;
      case 3:
        out.columnCharsets = packedList(v);
        return true;
      case 4: {
        const names: string[] = [];
        while (v.remaining > 0) names.push(v.str(v.packed('column name length'), 'column name'));
        out.columnNames = names;
        return true;
      }
      case 5:
      case 6: {
        const lists: string[][] = [];
        while (v.remaining > 0) {
          const n = v.packed('value count');
          const values: string[] = [];
          for (let i = 0; i < n; i++) values.push(v.str(v.packed('value length'), 'value'));
          lists.push(values);
        }
        if (type === 5) out.setValues = lists;
        else out.enumValues = lists;
        return true;
      }
      case 7:
        out.geometryTypes = packedList(v);
        return true;
      case 8:
        out.primaryKey = packedList(v).map((column) => ({ column, prefix: 0 }));
        return true;
      case 9: {
        const pk: { column: number; prefix: number }[] = [];
        while (v.remaining > 0) pk.push({ column: v.packed('pk column'), prefix: v.packed('pk prefix') });
        out.primaryKey = pk;
        return true;
      }
      case 10:
        out.enumAndSetDefaultCharset = defaultCharset(v);
        return true;
      case 11:
        out.enumAndSetColumnCharsets = packedList(v);
        return true;
      case 12:
        out.columnVisibility = bits(v.rest(), columnCount);
        return true;
      case 13:
        out.vectorDimensionality = packedList(v);
        return true;
      default:
        return false;
    }
  } catch {
    v.pos = start;
    return false;
  }
}

function bits(b: Buffer, max: number): boolean[] {
  const out: boolean[] = [];
  for (let i = 0; i < b.length * 8 && i < max; i++) out.push(((b[i >> 3] >> (7 - (i & 7))) & 1) === 1);
  return out;
}

function packedList(v: Cursor): number[] {
  const out: number[] = [];
  while (v.remaining > 0) out.push(v.packed('metadata value'));
  return out;
}

function defaultCharset(v: Cursor): DefaultCharset {
  const defaultCollation = v.packed('default charset');
  const exceptions: DefaultCharset['exceptions'] = [];
  while (v.remaining > 0)
    exceptions.push({ charColumn: v.packed('char column'), collation: v.packed('collation') });
  return { defaultCollation, exceptions };
}
