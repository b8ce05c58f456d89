/**
 * JSON rendering of decoded events for `cachetail binlog --json`: one object per line, bigints as
 * decimal strings (JSON numbers lose precision past 2^53 and XIDs/GTID sequence numbers get there),
 * byte ranges as lower-case hex (row images and raw bodies are binary, not text).
 */

/** One line of JSON (no trailing newline). */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value, replacer);
}

function replacer(this: unknown, key: string, value: unknown): unknown {
  // JSON.stringify calls Buffer#toJSON before the replacer sees the value, so look at the holder's
  // original property to recognise bytes.
  const raw = key === '' ? value : (this as Record<string, unknown>)[key];
  if (raw instanceof Uint8Array)
    return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('hex');
  if (typeof value === 'bigint') return value.toString();
  return value;
}
