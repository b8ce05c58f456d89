/*
 * MariaDB compressed columns (`BLOB COMPRESSED`, `VARCHAR(n) COMPRESSED`; sql/field_comp.cc). After
 * the usual length prefix the value is
 *   header u8 = 0                              the original bytes follow as they are
 *   header u8 = 0x80 | 8 if raw deflate | n    then the original length in n (1-4) bytes BIG-endian,
 *                                              then a deflate stream (zlib-wrapped unless bit 3)
 * (column_compression_zlib_wrap=OFF, the default, writes raw deflate.) Inflating is bounded by the
 * declared length, so a corrupt header cannot make a large allocation.
 */
import { inflateRawSync, inflateSync } from 'node:zlib';
import { MAX_UNCOMPRESSED_BYTES } from '../constants.js';
import { BinlogDecodeError } from '../errors.js';

export function uncompressColumn(stored: Buffer): Buffer {
  if (stored.length === 0) return stored;
  const header = stored[0];
  if (header === 0) return stored.subarray(1);
  const n = header & 0x07;
  if ((header & 0x80) === 0 || (header & 0x70) !== 0 || n < 1 || n > 4 || stored.length < 1 + n) {
    throw new BinlogDecodeError('MALFORMED_EVENT', `compressed column header 0x${header.toString(16)}`);
  }
  const expected = stored.readUIntBE(1, n);
  if (expected > MAX_UNCOMPRESSED_BYTES) {
    throw new BinlogDecodeError('UNSUPPORTED', `compressed column declares ${expected} bytes`);
  }
  const data = stored.subarray(1 + n);
  let out: Buffer;
  try {
    const opts = { maxOutputLength: Math.max(expected, 1) };
    out = (header & 0x08) !== 0 ? inflateRawSync(data, opts) : inflateSync(data, opts);
  } catch (err) {
    throw new BinlogDecodeError(
      'MALFORMED_EVENT',
      `compressed column does not inflate: ${(err as Error).message}`,
    );
  }
  if (out.length !== expected) {
    throw new BinlogDecodeError(
      'MALFORMED_EVENT',
      `compressed column inflated to ${out.length} bytes, header says ${expected}`,
    );
  }
  return out;
}
