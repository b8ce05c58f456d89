/**
 * Finds the integer fields of an event by watching the decoder read it: while a clean seed event is
 * decoded, the Cursor's integer readers are wrapped and every read that lands inside the event is
 * recorded with its offset, width and the decoder's own label ('status_vars_len', 'column count', …).
 * The mutator then corrupts exactly those fields. This follows the decoder as it grows (row images,
 * new events) without a second, hand-written map of every layout that could drift from the real one.
 */
import { Cursor } from '../../src/binlog/cursor.js';

export interface IntField {
  /** Offset in the event (header included). */
  offset: number;
  /** Bytes read; 0 for a packed integer (its width depends on the first byte). */
  width: number;
  label: string;
}

type Reader = (this: Cursor, ...args: unknown[]) => unknown;
const WIDTHS: Record<string, number> = {
  u8: 1,
  u16: 2,
  u24: 3,
  u32: 4,
  u64: 8,
  u64n: 8,
  packed: 0,
  uint: -1,
};

/** Labels that name a length, count or size: the fields whose corruption drives allocation and bounds. */
export const LENGTH_LABEL = /len|length|count|size|n_sids|intervals|extra/i;

/**
 * Runs `decode` with the Cursor instrumented; returns the fields read inside `event`. Nested reads (a
 * packed integer reading its u16) are recorded once, as the outer read.
 */
export function recordIntFields(event: Buffer, decode: () => void): IntField[] {
  const fields = new Map<string, IntField>();
  const proto = Cursor.prototype as unknown as Record<string, Reader>;
  const saved = new Map<string, Reader>();
  let depth = 0;
  for (const name of Object.keys(WIDTHS)) {
    const original = proto[name];
    saved.set(name, original);
    proto[name] = function (this: Cursor, ...args: unknown[]): unknown {
      const start = this.pos;
      depth++;
      try {
        return original.apply(this, args);
      } finally {
        depth--;
        if (depth === 0) note(this, start, name, args);
      }
    };
  }
  const note = (c: Cursor, pos: number, name: string, args: unknown[]): void => {
    if (c.buf.buffer !== event.buffer) return;
    const offset = c.buf.byteOffset + pos - event.byteOffset;
    if (offset < 0 || offset >= event.length) return;
    const width = name === 'uint' ? Number(args[0]) : WIDTHS[name];
    const what = name === 'uint' ? args[1] : args[0];
    const label = typeof what === 'string' ? what : name;
    fields.set(`${offset}`, { offset, width, label });
  };
  try {
    decode();
  } catch {
    // A seed that does not decode cleanly still yields the fields read before the failure.
  } finally {
    for (const [name, original] of saved) proto[name] = original;
  }
  return [...fields.values()].sort((a, b) => a.offset - b.offset);
}
