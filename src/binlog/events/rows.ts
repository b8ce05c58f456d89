import type { Cursor } from '../cursor.js';
import { BinlogDecodeError } from '../errors.js';
import { EventType } from '../constants.js';
import type { BodyContext } from './context.js';
import { mariadbUncompress } from './mariadb-compression.js';
import type { EventHeader, RowsEvent, RowsEventKind, TableMapEvent } from './types.js';

/** Column type codes whose TABLE_MAP metadata matters for reading the metadata block. */
const ColumnType = {
  FLOAT: 4,
  DOUBLE: 5,
  VARCHAR: 15,
  BIT: 16,
  TIMESTAMP2: 17,
  DATETIME2: 18,
  TIME2: 19,
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
 * VARCHAR/VAR_STRING 2 bytes LE (max length in bytes); NEWDECIMAL 2 (precision, scale); BIT 2 (bits%8,
 * bytes); STRING/ENUM/SET 2 (real type, length). Numbers in `columnMeta` follow mysqlbinlog's "meta=":
 * 2-byte values are byte0 << 8 | byte1 except VARCHAR (little-endian) and BIT (bytes << 8 | bits).
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
        need(1);
        out[i] = raw[p]!;
        p += 1;
        break;
      case ColumnType.VARCHAR:
      case ColumnType.VAR_STRING:
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

const ROWS_KIND = new Map<number, [RowsEventKind, 1 | 2, boolean]>([
  [EventType.WRITE_ROWS_V1, ['write_rows', 1, false]],
  [EventType.UPDATE_ROWS_V1, ['update_rows', 1, false]],
  [EventType.DELETE_ROWS_V1, ['delete_rows', 1, false]],
  [EventType.WRITE_ROWS_V2, ['write_rows', 2, false]],
  [EventType.UPDATE_ROWS_V2, ['update_rows', 2, false]],
  [EventType.DELETE_ROWS_V2, ['delete_rows', 2, false]],
  [EventType.MARIA_WRITE_ROWS_COMPRESSED_V1, ['write_rows', 1, true]],
  [EventType.MARIA_UPDATE_ROWS_COMPRESSED_V1, ['update_rows', 1, true]],
  [EventType.MARIA_DELETE_ROWS_COMPRESSED_V1, ['delete_rows', 1, true]],
  [EventType.MARIA_WRITE_ROWS_COMPRESSED, ['write_rows', 2, true]],
  [EventType.MARIA_UPDATE_ROWS_COMPRESSED, ['update_rows', 2, true]],
  [EventType.MARIA_DELETE_ROWS_COMPRESSED, ['delete_rows', 2, true]],
]);

export function isRowsEventType(typeCode: number): boolean {
  return ROWS_KIND.has(typeCode);
}

/*
 * WRITE/UPDATE/DELETE_ROWS v1 (23-25), v2 (30-32), MariaDB compressed v1 (166-168) / v2 (169-171):
 *   post-header: table_id u48 (u32 when the post-header length is 6) | flags u16
 *                | v2 only: extra_len u16 (counts itself) | extra data
 *   body: column_count packed | columns_present bitmap | UPDATE: columns_present_after bitmap | rows
 * Flags: 1 STMT_END, 2 NO_FOREIGN_KEY_CHECKS, 4 RELAXED_UNIQUE_CHECKS, 8 COMPLETE_ROWS.
 * For the compressed types `rows` is a MariaDB compressed payload; it is inflated here.
 */
export function decodeRows(c: Cursor, header: EventHeader, ctx: BodyContext): RowsEvent {
  const [kind, version, compressed] = ROWS_KIND.get(header.typeCode)!;
  const idLen = ctx.postHeaderLength(header.typeCode) === 6 ? 4 : 6;
  const tableId = c.uint(idLen, 'table_id');
  const flags = c.u16('rows flags');
  let extraData = c.buf.subarray(c.pos, c.pos);
  if (version === 2) {
    const extraLen = c.u16('extra_len');
    if (extraLen < 2) throw new BinlogDecodeError('MALFORMED_EVENT', `rows extra_len ${extraLen} < 2`);
    extraData = c.bytes(extraLen - 2, 'rows extra data');
  }
  const columnCount = c.packed('column count');
  const bitmapLen = (columnCount + 7) >>> 3;
  const columnsPresent = c.bytes(bitmapLen, 'columns bitmap');
  const base = {
    header,
    version,
    compressed,
    tableId,
    flags,
    stmtEnd: (flags & 1) !== 0,
    extraData,
    columnCount,
  };
  if (kind === 'update_rows') {
    const columnsPresentAfter = c.bytes(bitmapLen, 'after-image bitmap');
    return { kind, ...base, columnsPresent, columnsPresentAfter, rows: rowData(c, compressed) };
  }
  return { kind, ...base, columnsPresent, rows: rowData(c, compressed) };
}

function rowData(c: Cursor, compressed: boolean): Buffer {
  const data = c.rest();
  return compressed ? mariadbUncompress(data) : data;
}
