/*
 * A partial JSON update in a PARTIAL_UPDATE_ROWS after image (sql/json_diff.cc Json_diff_vector):
 * the column's usual length prefix (4 bytes), then diffs to its end, each
 *   operation u8 (0 REPLACE, 1 INSERT, 2 REMOVE) | path: packed length + text (e.g. `$.a[1]`)
 *   | unless REMOVE: value: packed length + binary JSON
 * The diffs apply, in order, to the column's before value; a MINIMAL before image may not have it,
 * so they are exposed as they are, not applied.
 */
import { Cursor } from '../cursor.js';
import { BinlogDecodeError } from '../errors.js';
import { decodeJsonBinary } from './json-binary.js';
import type { JsonDiff, JsonDiffOperation } from './values.js';

const OPERATIONS: readonly JsonDiffOperation[] = ['replace', 'insert', 'remove'];

export function decodeJsonDiffs(buf: Buffer, start: number, end: number): JsonDiff[] {
  const c = new Cursor(buf, start, end);
  const diffs: JsonDiff[] = [];
  while (c.remaining > 0) {
    const op = c.u8('JSON diff operation');
    const operation = OPERATIONS[op];
    if (operation === undefined) throw new BinlogDecodeError('MALFORMED_EVENT', `JSON diff operation ${op}`);
    const path = c.str(c.packed('JSON diff path length'), 'JSON diff path');
    if (operation === 'remove') {
      diffs.push({ operation, path });
      continue;
    }
    const len = c.packed('JSON diff value length');
    c.need(len, 'JSON diff value');
    diffs.push({ operation, path, value: decodeJsonBinary(buf, c.pos, c.pos + len) });
    c.pos += len;
  }
  return diffs;
}
