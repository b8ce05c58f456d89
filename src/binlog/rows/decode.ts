/*
 * The row images of WRITE/UPDATE/DELETE_ROWS (v1, v2, MariaDB compressed, already inflated) and
 * MySQL PARTIAL_UPDATE_ROWS, read with the TABLE_MAP of the event's table id. `rows` is a sequence of
 *
 *   WRITE:   after-image
 *   DELETE:  before-image
 *   UPDATE:  before-image after-image
 *   PARTIAL_UPDATE_ROWS (39): before-image value_options (packed; bit 0 PARTIAL_JSON)
 *            [if PARTIAL_JSON: partial bitmap, one bit per JSON column of the table] after-image
 *
 *   image := null-bitmap values
 *     null-bitmap: one bit per column *present in the image* (columns_present / columns_present_after
 *                  of the event), LSB first, set = NULL
 *     values:      the present, non-NULL columns in table order (cell.ts)
 *
 * A column absent from the image (MINIMAL row image, NDB partial writes) is `undefined` in the row;
 * SQL NULL is `null`. A JSON column whose partial bit is set holds JSON diffs instead of a document.
 * Signedness is not in the row: it comes from the TABLE_MAP's SIGNEDNESS metadata or `opts.unsigned`.
 */
import { Cursor } from '../cursor.js';
import { BinlogDecodeError } from '../errors.js';
import { ColumnType } from '../events/table-map.js';
import type { RowsEvent, TableMapEvent } from '../events/types.js';
import { readValue } from './cell.js';
import { tablePlan, type ColumnHints, type ColumnPlan } from './columns.js';
import type { Row, RowChange } from './values.js';

export type DecodeRowsOptions = ColumnHints;

const PARTIAL_JSON = 1;

export function decodeRows(event: RowsEvent, tableMap: TableMapEvent, opts?: DecodeRowsOptions): RowChange[] {
  if (event.tableId !== tableMap.tableId) {
    throw new BinlogDecodeError(
      'MALFORMED_EVENT',
      `rows event of table id ${event.tableId} given the TABLE_MAP of table id ${tableMap.tableId}`,
    );
  }
  const n = event.columnCount;
  if (n > tableMap.columnCount) {
    throw new BinlogDecodeError(
      'MALFORMED_EVENT',
      `rows event has ${n} columns, the TABLE_MAP of ${tableMap.db}.${tableMap.table} ${tableMap.columnCount}`,
    );
  }
  const plan = tablePlan(tableMap, opts);
  const columns = plan.columns;
  const partial = event.kind === 'update_rows' && event.partial;
  const before = event.kind === 'write_rows' ? undefined : event.columnsPresent;
  const after =
    event.kind === 'update_rows'
      ? event.columnsPresentAfter
      : event.kind === 'write_rows'
        ? event.columnsPresent
        : undefined;
  const beforeCount = before ? countBits(before, n) : 0;
  const afterCount = after ? countBits(after, n) : 0;
  const jsonOrdinal = partial ? jsonOrdinals(columns, n) : undefined;

  const c = new Cursor(event.rows);
  const out: RowChange[] = [];
  const at = { row: 0, column: -1 };
  try {
    while (c.remaining > 0) {
      const start = c.pos;
      const change: RowChange = {};
      if (before) change.before = readImage(c, columns, n, before, beforeCount, undefined, undefined, at);
      if (after) {
        let partialBits: Buffer | undefined;
        if (partial) {
          at.column = -1;
          const options = c.packed('value_options');
          if ((options & PARTIAL_JSON) !== 0)
            partialBits = c.bytes((plan.jsonColumns + 7) >>> 3, 'partial JSON bitmap');
        }
        change.after = readImage(c, columns, n, after, afterCount, partialBits, jsonOrdinal, at);
      }
      // An image of no columns takes no bytes: without this check it would repeat forever.
      if (c.pos === start)
        throw new BinlogDecodeError('MALFORMED_EVENT', 'row image of no columns with bytes left');
      out.push(change);
      at.row++;
    }
  } catch (err) {
    if (err instanceof BinlogDecodeError) {
      const where = at.column >= 0 ? `, column ${at.column + 1} (type ${columns[at.column]?.type})` : '';
      // Offsets inside the row data are not offsets in the event body: say which they are.
      const detail = err.detail.replace('at body offset', 'at row data offset');
      throw new BinlogDecodeError(
        err.code,
        `${detail} (${tableMap.db}.${tableMap.table} row ${at.row + 1}${where})`,
        err,
      );
    }
    throw err;
  }
  return out;
}

function readImage(
  c: Cursor,
  columns: readonly ColumnPlan[],
  n: number,
  present: Buffer,
  presentCount: number,
  partialBits: Buffer | undefined,
  jsonOrdinal: Int32Array | undefined,
  at: { column: number },
): Row {
  at.column = -1;
  const nullBytes = (presentCount + 7) >>> 3;
  c.need(nullBytes, 'null bitmap');
  const nulls = c.pos;
  c.pos += nullBytes;
  const buf = c.buf;
  const row: Row = [];
  let k = 0;
  for (let i = 0; i < n; i++) {
    if ((present[i >>> 3] & (1 << (i & 7))) === 0) {
      row.push(undefined);
      continue;
    }
    if ((buf[nulls + (k >>> 3)] & (1 << (k & 7))) !== 0) {
      row.push(null);
    } else {
      at.column = i;
      const col = columns[i];
      let isPartial = false;
      if (partialBits !== undefined && jsonOrdinal !== undefined && col.type === ColumnType.JSON) {
        const j = jsonOrdinal[i];
        isPartial = (partialBits[j >>> 3] & (1 << (j & 7))) !== 0;
      }
      row.push(readValue(c, col, isPartial));
    }
    k++;
  }
  return row;
}

function countBits(bitmap: Buffer, n: number): number {
  let count = 0;
  for (let i = 0; i < n; i++) if ((bitmap[i >>> 3] & (1 << (i & 7))) !== 0) count++;
  return count;
}

/** Position of each JSON column among the table's JSON columns (the partial bitmap's bit index). */
function jsonOrdinals(columns: readonly ColumnPlan[], n: number): Int32Array {
  const out = new Int32Array(n);
  let j = 0;
  for (let i = 0; i < n; i++) out[i] = columns[i].type === ColumnType.JSON ? j++ : -1;
  return out;
}
