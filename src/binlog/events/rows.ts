import type { Cursor } from '../cursor.js';
import { BinlogDecodeError } from '../errors.js';
import { EventType } from '../constants.js';
import type { BodyContext } from './context.js';
import { mariadbUncompress } from './mariadb-compression.js';
import type { EventHeader, RowsEvent, RowsEventKind } from './types.js';

const ROWS_KIND = new Map<number, [RowsEventKind, 1 | 2, boolean]>([
  [EventType.WRITE_ROWS_V1, ['write_rows', 1, false]],
  [EventType.UPDATE_ROWS_V1, ['update_rows', 1, false]],
  [EventType.DELETE_ROWS_V1, ['delete_rows', 1, false]],
  [EventType.WRITE_ROWS_V2, ['write_rows', 2, false]],
  [EventType.UPDATE_ROWS_V2, ['update_rows', 2, false]],
  [EventType.DELETE_ROWS_V2, ['delete_rows', 2, false]],
  // Laid out like UPDATE_ROWS v2 up to the row data (whose after images may hold JSON diffs).
  [EventType.PARTIAL_UPDATE_ROWS, ['update_rows', 2, false]],
  [EventType.MARIA_WRITE_ROWS_COMPRESSED_V1, ['write_rows', 1, true]],
  [EventType.MARIA_UPDATE_ROWS_COMPRESSED_V1, ['update_rows', 1, true]],
  [EventType.MARIA_DELETE_ROWS_COMPRESSED_V1, ['delete_rows', 1, true]],
  [EventType.MARIA_WRITE_ROWS_COMPRESSED, ['write_rows', 2, true]],
  [EventType.MARIA_UPDATE_ROWS_COMPRESSED, ['update_rows', 2, true]],
  [EventType.MARIA_DELETE_ROWS_COMPRESSED, ['delete_rows', 2, true]],
]);

/** Shared by every rows event without extra data (most of them): it is empty, so nobody can change it. */
const NO_EXTRA_DATA: Buffer = Buffer.alloc(0);

export function isRowsEventType(typeCode: number): boolean {
  return ROWS_KIND.has(typeCode);
}

/*
 * WRITE/UPDATE/DELETE_ROWS v1 (23-25), v2 (30-32), MariaDB compressed v1 (166-168) / v2 (169-171),
 * MySQL PARTIAL_UPDATE_ROWS (39, decoded as an update with `partial` set):
 *   post-header: table_id u48 (u32 when the post-header length is 6) | flags u16
 *                | v2 only: extra_len u16 (counts itself) | extra data
 *   body: column_count packed | columns_present bitmap | UPDATE: columns_present_after bitmap | rows
 * Flags: 1 STMT_END, 2 NO_FOREIGN_KEY_CHECKS, 4 RELAXED_UNIQUE_CHECKS, 8 COMPLETE_ROWS.
 * For the compressed types `rows` is a MariaDB compressed payload; it is inflated here.
 */
export function decodeRowsEvent(c: Cursor, header: EventHeader, ctx: BodyContext): RowsEvent {
  const [kind, version, compressed] = ROWS_KIND.get(header.typeCode)!;
  const idLen = ctx.postHeaderLength(header.typeCode) === 6 ? 4 : 6;
  const tableId = c.uint(idLen, 'table_id');
  const flags = c.u16('rows flags');
  let extraData = NO_EXTRA_DATA;
  if (version === 2) {
    const extraLen = c.u16('extra_len');
    if (extraLen < 2) throw new BinlogDecodeError('MALFORMED_EVENT', `rows extra_len ${extraLen} < 2`);
    if (extraLen > 2) extraData = c.bytes(extraLen - 2, 'rows extra data');
  }
  const columnCount = c.packed('column count');
  const bitmapLen = (columnCount + 7) >>> 3;
  const columnsPresent = c.bytes(bitmapLen, 'columns bitmap');
  // Written out, not spread from a shared base: a spread costs more than the rest of this function.
  const stmtEnd = (flags & 1) !== 0;
  if (kind === 'update_rows') {
    const columnsPresentAfter = c.bytes(bitmapLen, 'after-image bitmap');
    return {
      kind,
      header,
      version,
      compressed,
      tableId,
      flags,
      stmtEnd,
      extraData,
      columnCount,
      columnsPresent,
      columnsPresentAfter,
      partial: header.typeCode === EventType.PARTIAL_UPDATE_ROWS,
      rows: rowData(c, compressed),
    };
  }
  return {
    kind,
    header,
    version,
    compressed,
    tableId,
    flags,
    stmtEnd,
    extraData,
    columnCount,
    columnsPresent,
    rows: rowData(c, compressed),
  };
}

function rowData(c: Cursor, compressed: boolean): Buffer {
  const data = c.rest();
  return compressed ? mariadbUncompress(data) : data;
}
