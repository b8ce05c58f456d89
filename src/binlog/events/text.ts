import type { Cursor } from '../cursor.js';
import type { AnnotateRowsEvent, EventHeader, RowsQueryEvent } from './types.js';

/* MariaDB ANNOTATE_ROWS (160): the statement text to the end of the body (no length, no NUL). */
export function decodeAnnotateRows(c: Cursor, header: EventHeader): AnnotateRowsEvent {
  return { kind: 'annotate_rows', header, sql: c.restStr() };
}

/*
 * MySQL ROWS_QUERY (29): length u8 | text to the end of the body. The length byte is capped at 255 and
 * wrong for longer statements; the server itself ignores it, and so do we.
 */
export function decodeRowsQuery(c: Cursor, header: EventHeader): RowsQueryEvent {
  c.skip(1, 'rows_query length');
  return { kind: 'rows_query', header, sql: c.restStr() };
}
