import { inflateSync } from 'node:zlib';
import { MAX_UNCOMPRESSED_BYTES } from '../constants.js';
import { BinlogDecodeError } from '../errors.js';

/*
 * MariaDB compressed payload (QUERY_COMPRESSED's SQL text, *_ROWS_COMPRESSED's row data):
 *   flags u8 = 0x80 | n (n = 1..4) | uncompressed_length, n bytes BIG-endian | zlib stream
 * (MariaDB sql/log_event.cc binlog_buf_uncompress).
 */
export function mariadbUncompress(data: Buffer): Buffer {
  if (data.length < 1) throw new BinlogDecodeError('MALFORMED_EVENT', 'empty compressed payload');
  const flags = data[0];
  const lenBytes = flags & 0x07;
  if ((flags & 0x80) === 0 || lenBytes < 1 || lenBytes > 4 || data.length < 1 + lenBytes) {
    throw new BinlogDecodeError('MALFORMED_EVENT', `bad compressed payload header 0x${flags.toString(16)}`);
  }
  const expected = data.readUIntBE(1, lenBytes);
  if (expected > MAX_UNCOMPRESSED_BYTES) {
    throw new BinlogDecodeError(
      'UNSUPPORTED',
      `compressed payload declares ${expected} bytes, over the ${MAX_UNCOMPRESSED_BYTES}-byte limit`,
    );
  }
  let out: Buffer;
  try {
    out = inflateSync(data.subarray(1 + lenBytes), { maxOutputLength: Math.max(expected, 1) });
  } catch (err) {
    throw new BinlogDecodeError(
      'MALFORMED_EVENT',
      `zlib payload does not inflate: ${(err as Error).message}`,
    );
  }
  if (out.length !== expected) {
    throw new BinlogDecodeError(
      'MALFORMED_EVENT',
      `compressed payload inflated to ${out.length} bytes, header says ${expected}`,
    );
  }
  return out;
}

/** Inverse of mariadbUncompress (used by the builder and tests). */
export function mariadbCompress(data: Buffer, deflate: (b: Buffer) => Buffer): Buffer {
  const lenBytes = data.length < 0x100 ? 1 : data.length < 0x10000 ? 2 : data.length < 0x1000000 ? 3 : 4;
  const head = Buffer.alloc(1 + lenBytes);
  head[0] = 0x80 | lenBytes;
  head.writeUIntBE(data.length, 1, lenBytes);
  return Buffer.concat([head, deflate(data)]);
}
