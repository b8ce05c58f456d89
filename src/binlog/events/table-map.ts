import type { Cursor } from '../cursor.js';
import { BinlogDecodeError } from '../errors.js';
import type { BodyContext } from './context.js';
import { decodeOptionalMetadata } from './table-map-metadata.js';
import type { EventHeader, TableMapEvent } from './types.js';

/** Column type codes (`enum_field_types`) as a TABLE_MAP stores them. */
export const ColumnType = {
  DECIMAL: 0,
  TINY: 1,
  SHORT: 2,
  LONG: 3,
  FLOAT: 4,
  DOUBLE: 5,
  NULL: 6,
  TIMESTAMP: 7,
  LONGLONG: 8,
  INT24: 9,
  DATE: 10,
  TIME: 11,
  DATETIME: 12,
  YEAR: 13,
  NEWDATE: 14,
  VARCHAR: 15,
  BIT: 16,
  TIMESTAMP2: 17,
  DATETIME2: 18,
  TIME2: 19,
  /** MariaDB column compression (`BLOB COMPRESSED`, `VARCHAR(n) COMPRESSED`, 10.3+). */
  BLOB_COMPRESSED: 140,
  VARCHAR_COMPRESSED: 141,
  VECTOR: 242,
  JSON: 245,
  NEWDECIMAL: 246,
  ENUM: 247,
  SET: 248,
  TINY_BLOB: 249,
  MEDIUM_BLOB: 250,
  LONG_BLOB: 251,
  BLOB: 252,
  VAR_STRING: 253,
  STRING: 254,
  GEOMETRY: 255,
} as const;

/*
 * TABLE_MAP (19):
 *   post-header: table_id u48 (u32 when the post-header length is 6) | flags u16
 *   body: db_len u8 | db | NUL | table_len u8 | table | NUL | column_count packed | types u8[n]
 *         | metadata_len packed | metadata | null_bitmap ((n+7)/8) | optional metadata TLVs to the end
 * Metadata per column: FLOAT/DOUBLE/BLOB-family/JSON/GEOMETRY/TIMESTAMP2/DATETIME2/TIME2 1 byte;
 * VARCHAR/VAR_STRING 2 bytes LE (max length in bytes); MariaDB BLOB_COMPRESSED (140) 1 byte and
 * VARCHAR_COMPRESSED (141) 2 bytes, like their uncompressed counterparts; NEWDECIMAL 2 (precision,
 * scale); BIT 2 (bits%8, bytes); STRING/ENUM/SET 2 (real type, length). Numbers in `columnMeta`
 * follow mysqlbinlog's "meta=": 2-byte values are byte0 << 8 | byte1 except VARCHAR (little-endian)
 * and BIT (bytes << 8 | bits).
 */
export function decodeTableMap(c: Cursor, header: EventHeader, ctx: BodyContext): TableMapEvent {
  const idLen = ctx.postHeaderLength(header.typeCode) === 6 ? 4 : 6;
  const tableId = c.uint(idLen, 'table_id');
  const flags = c.u16('table map flags');
  const db = c.str(c.u8('db length'), 'db');
  c.skip(1, 'db NUL');
  const table = c.str(c.u8('table length'), 'table');
  c.skip(1, 'table NUL');
  const columnCount = c.packed('column count');
  const columnTypes = c.bytes(columnCount, 'column types');
  const metaLen = c.packed('metadata length');
  const columnMetaRaw = c.bytes(metaLen, 'column metadata');
  const columnMeta = parseColumnMeta(columnTypes, columnMetaRaw);
  const nullBitmap = c.bytes((columnCount + 7) >>> 3, 'null bitmap');
  const optionalMetadataRaw = c.rest();
  const optionalMetadata = decodeOptionalMetadata(optionalMetadataRaw, columnCount);
  return {
    kind: 'table_map',
    header,
    tableId,
    flags,
    db,
    table,
    columnCount,
    columnTypes,
    columnMetaRaw,
    columnMeta,
    nullBitmap,
    optionalMetadataRaw,
    optionalMetadata,
  };
}

function parseColumnMeta(types: Buffer, raw: Buffer): number[] {
  const out = new Array<number>(types.length);
  let p = 0;
  const need = (n: number): void => {
    if (p + n > raw.length) {
      throw new BinlogDecodeError('MALFORMED_EVENT', `column metadata shorter than its column types need`);
    }
  };
  for (let i = 0; i < types.length; i++) {
    switch (types[i]) {
      case ColumnType.FLOAT:
      case ColumnType.DOUBLE:
      case ColumnType.TINY_BLOB:
      case ColumnType.MEDIUM_BLOB:
      case ColumnType.LONG_BLOB:
      case ColumnType.BLOB:
      case ColumnType.GEOMETRY:
      case ColumnType.JSON:
      case ColumnType.VECTOR:
      case ColumnType.TIMESTAMP2:
      case ColumnType.DATETIME2:
      case ColumnType.TIME2:
      case ColumnType.BLOB_COMPRESSED:
        need(1);
        out[i] = raw[p]!;
        p += 1;
        break;
      case ColumnType.VARCHAR:
      case ColumnType.VAR_STRING:
      case ColumnType.VARCHAR_COMPRESSED:
        need(2);
        out[i] = raw.readUInt16LE(p);
        p += 2;
        break;
      case ColumnType.BIT:
        need(2);
        out[i] = (raw[p + 1] << 8) | raw[p];
        p += 2;
        break;
      case ColumnType.NEWDECIMAL:
      case ColumnType.STRING:
      case ColumnType.ENUM:
      case ColumnType.SET:
        need(2);
        out[i] = (raw[p] << 8) | raw[p + 1];
        p += 2;
        break;
      default:
        out[i] = 0;
    }
  }
  return out;
}
