/**
 * The lines `cachetail binlog` prints for one event: text (one `# at …` line, plus one line per row
 * with -v) or one JSON object. Row images are decoded here with the TABLE_MAP the decoder kept; a rows
 * event whose map was not read (a start position inside a statement) is shown without its rows, and
 * one whose rows do not decode is shown with the error (the run goes on, the exit status says it).
 */
import { eventTypeName } from '../binlog/constants.js';
import type { BinlogDecoder } from '../binlog/decoder.js';
import { errorMessage } from '../errors.js';
import type { BinlogEvent, RowsEvent, TableMapEvent } from '../binlog/events/types.js';
import { jsonLine } from '../binlog/format/json.js';
import { formatRowLines } from '../binlog/format/rows.js';
import { formatEventLine } from '../binlog/format/text.js';
import { decodeRows } from '../binlog/rows/decode.js';
import type { RowChange } from '../binlog/rows/values.js';

export interface PrintOptions {
  json: boolean;
  /** Text: one line per row with its values. */
  verbose: boolean;
}

interface DecodedRows {
  tableMap: TableMapEvent | undefined;
  changes: RowChange[] | undefined;
  error: string | undefined;
}

function isRows(ev: BinlogEvent): ev is RowsEvent {
  return ev.kind === 'write_rows' || ev.kind === 'update_rows' || ev.kind === 'delete_rows';
}

function rowsOf(decoder: BinlogDecoder, ev: RowsEvent): DecodedRows {
  const tableMap = decoder.tableMap(ev.tableId);
  if (!tableMap) return { tableMap, changes: undefined, error: undefined };
  try {
    return { tableMap, changes: decodeRows(ev, tableMap), error: undefined };
  } catch (err) {
    return { tableMap, changes: undefined, error: errorMessage(err) };
  }
}

/** The lines of one event, and whether its rows failed to decode. */
export function eventLines(
  file: string,
  at: number,
  ev: BinlogEvent,
  inner: boolean,
  decoder: BinlogDecoder,
  opts: PrintOptions,
): { lines: string[]; rowError: boolean } {
  const rows = isRows(ev) ? rowsOf(decoder, ev) : undefined;
  const rowError = rows?.error !== undefined;
  if (opts.json) {
    const record: Record<string, unknown> = {
      type: 'event',
      file,
      position: at,
      inner,
      eventType: eventTypeName(ev.header.typeCode),
      // Nested, not spread: ROTATE/HEARTBEAT have their own `position` and `file` fields.
      event: ev,
    };
    if (rows?.tableMap) record.table = { db: rows.tableMap.db, table: rows.tableMap.table };
    if (rows?.changes) {
      record.rowCount = rows.changes.length;
      record.rowChanges = rows.changes;
      // The decoded values replace the raw row images (a 17 MB BLOB would otherwise be written twice).
      record.event = { ...ev, rows: undefined };
    }
    if (rows?.error !== undefined) record.rowError = rows.error;
    return { lines: [jsonLine(record)], rowError };
  }
  let line = formatEventLine(at, ev, { tableMap: rows?.tableMap, rowCount: rows?.changes?.length });
  if (rows?.error !== undefined) line += ` row_error ${JSON.stringify(rows.error)}`;
  const lines = [inner ? `#   inner ${line.slice(2)}` : line];
  if (opts.verbose && rows?.changes) lines.push(...formatRowLines(rows.changes, rows.tableMap));
  return { lines, rowError };
}
