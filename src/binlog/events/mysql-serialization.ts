import type { Cursor } from '../cursor.js';
import { BinlogDecodeError } from '../errors.js';

/*
 * Variable-length unsigned integer of MySQL's serialization library (libs/mysql/serialization), used by
 * GTID_TAGGED and the tags in PREVIOUS_GTIDS. 1..9 bytes, little-endian. The number of trailing 1 bits
 * of the first byte, plus one, is the byte count n. For n <= 8 the value is the n-byte integer shifted
 * right by n; for n = 9 (first byte 0xff) the value is the following 8 bytes.
 */
export function readVarlenUint(c: Cursor, what = 'varlen integer'): bigint {
  const first = c.u8(what);
  let n = 1;
  while (n < 9 && ((first >> (n - 1)) & 1) === 1) n++;
  if (n === 9) return c.u64(what);
  c.pos--;
  c.need(n, what);
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(c.buf[c.pos + i]);
  c.pos += n;
  return v >> BigInt(n);
}

export function readVarlenNumber(c: Cursor, what = 'varlen integer'): number {
  const v = readVarlenUint(c, what);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new BinlogDecodeError('MALFORMED_EVENT', `${what} ${v} is larger than 2^53`);
  }
  return Number(v);
}

/** Signed variant: zig-zag, the lowest bit is the sign. */
export function readVarlenInt(c: Cursor, what = 'varlen integer'): bigint {
  const u = readVarlenUint(c, what);
  return (u & 1n) === 0n ? u >> 1n : -(u >> 1n) - 1n;
}

export function encodeVarlenUint(value: bigint | number): Buffer {
  const v = BigInt(value);
  let n = 1;
  while (n < 9 && v >= 1n << BigInt(7 * n)) n++;
  if (n === 9) {
    const b = Buffer.alloc(9);
    b[0] = 0xff;
    b.writeBigUInt64LE(v, 1);
    return b;
  }
  let x = (v << BigInt(n)) | ((1n << BigInt(n - 1)) - 1n);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    b[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return b;
}

export function encodeVarlenInt(value: bigint | number): Buffer {
  const v = BigInt(value);
  return encodeVarlenUint(v >= 0n ? v << 1n : (-(v + 1n) << 1n) | 1n);
}
