/**
 * Text rendering of decoded row images for `cachetail binlog -v`: one line per row, columns as
 * `@N=value` (or `name=value` when the TABLE_MAP carries column names). Long values are cut, since a
 * 17 MB BLOB on a terminal helps nobody; --json has them whole.
 *
 * Text that is valid UTF-8 in a non-binary column is JSON-quoted; anything else is shown as 0x-hex, so
 * the output stays one line of printable characters per row.
 */
import { isUtf8 } from 'node:buffer';
import type { TableMapEvent } from '../events/types.js';
import { StringValue, type ColumnValue, type Row, type RowChange } from '../rows/values.js';

const MAX_TEXT_CHARS = 200;
const MAX_HEX_BYTES = 64;

function bigintSafe(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? '';
}

function cut(text: string, total: number, unit: string, shown: number): string {
  return shown < total ? `${text}…(${total} ${unit})` : text;
}

function hexOf(bytes: Buffer): string {
  const shown = Math.min(bytes.length, MAX_HEX_BYTES);
  return cut(`0x${bytes.toString('hex', 0, shown)}`, bytes.length, 'bytes', shown);
}

/** Whether a string value reads as text (else it is shown, and in JSON written, as hex). */
export function isText(v: StringValue): boolean {
  return !v.binary && (v.encoding !== 'utf8' || isUtf8(v.bytes));
}

/** One value as a short literal. */
export function formatValue(v: ColumnValue): string {
  if (v === null) return 'NULL';
  if (v === undefined) return '-';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof StringValue) {
    if (!isText(v)) return hexOf(v.bytes);
    // Decode only a prefix of a large value; a character takes at most 4 bytes.
    const whole = v.bytes.length <= MAX_TEXT_CHARS * 4;
    const text = (whole ? v.bytes : v.bytes.subarray(0, MAX_TEXT_CHARS * 4)).toString(v.encoding);
    if (whole && text.length <= MAX_TEXT_CHARS) return JSON.stringify(text);
    return `${JSON.stringify(text.slice(0, MAX_TEXT_CHARS))}…(${v.bytes.length} bytes)`;
  }
  if (Array.isArray(v)) return JSON.stringify(v);
  if ('kind' in v) {
    if (v.kind === 'raw') return `raw(type ${v.type}) ${hexOf(v.raw)}`;
    const text = bigintSafe(v.kind === 'json' ? v.value : v.diffs);
    const shown = Math.min(text.length, MAX_TEXT_CHARS);
    return cut(`${v.kind}:${text.slice(0, shown)}`, text.length, 'chars', shown);
  }
  return bigintSafe(v);
}

function formatImage(row: Row, names: readonly string[] | undefined): string {
  const parts: string[] = [];
  row.forEach((v, i) => {
    // A column the image leaves out (MINIMAL row image) is not shown.
    if (v !== undefined) parts.push(`${names?.[i] ?? `@${i + 1}`}=${formatValue(v)}`);
  });
  return parts.join(' ');
}

/** `#   row N before: @1=… after: @1=…`, one line per row change. */
export function formatRowLines(changes: readonly RowChange[], map: TableMapEvent | undefined): string[] {
  const names = map?.optionalMetadata.columnNames;
  return changes.map((c, i) => {
    const parts = [`#   row ${i + 1}`];
    if (c.before) parts.push(`before: ${formatImage(c.before, names)}`);
    if (c.after) parts.push(`after: ${formatImage(c.after, names)}`);
    return parts.join(' ');
  });
}
