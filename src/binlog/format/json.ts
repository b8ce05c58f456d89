/**
 * JSON rendering of decoded events for `cachetail binlog --json`: one object per line, bigints as
 * decimal strings (JSON numbers lose precision past 2^53 and XIDs/GTID sequence numbers get there),
 * byte ranges as lower-case hex (row images and raw bodies are binary, not text). String column values
 * are their text when they are valid text, else `{ "hex": "…" }`.
 */
import { StringValue } from '../rows/values.js';
import { isText } from './rows.js';

/** One line of JSON (no trailing newline). */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value, replacer);
}

function replacer(this: unknown, key: string, value: unknown): unknown {
  // JSON.stringify calls Buffer#toJSON (and StringValue#toJSON) before the replacer sees the value, so
  // look at the holder's original property to recognise bytes.
  const raw = key === '' ? value : (this as Record<string, unknown>)[key];
  // A string column: its text when that is what it holds, else its bytes (lossless either way).
  if (raw instanceof StringValue) return isText(raw) ? raw.text : { hex: raw.bytes.toString('hex') };
  if (raw instanceof Uint8Array)
    return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('hex');
  if (typeof value === 'bigint') return value.toString();
  return value;
}
