import { decompress } from 'fzstd';
import type { Cursor } from '../cursor.js';
import { BinlogDecodeError } from '../errors.js';
import type { EventHeader, TransactionPayloadEvent } from './types.js';

const COMPRESSION_ZSTD = 0;
const COMPRESSION_NONE = 255;

/*
 * MySQL TRANSACTION_PAYLOAD (40, binlog_transaction_compression=ON). Right after the common header
 * (the FDE's post-header length for it is not used): fields of type packed | length packed | value (a
 * packed integer inside `length` bytes) until type 0:
 *   1 = compressed size, 2 = compression type (0 zstd, 255 none), 3 = uncompressed size.
 * Then the payload: one zstd frame holding whole events without checksums and with log_pos 0.
 */
export function decodeTransactionPayload(c: Cursor, header: EventHeader): TransactionPayloadEvent {
  let compressionType = COMPRESSION_NONE;
  let compressedSize: number | undefined;
  let uncompressedSize: number | undefined;
  while (c.remaining > 0) {
    const type = c.packed('payload field type');
    if (type === 0) break;
    const len = c.packed('payload field length');
    const end = c.pos + len;
    c.need(len, 'payload field');
    if (type === 1) compressedSize = c.packed('compressed size');
    else if (type === 2) compressionType = c.packed('compression type');
    else if (type === 3) uncompressedSize = c.packed('uncompressed size');
    c.pos = end;
  }
  const data = c.rest();
  if (compressedSize !== undefined && compressedSize !== data.length) {
    throw new BinlogDecodeError(
      'MALFORMED_EVENT',
      `payload of ${data.length} bytes, compressed size field says ${compressedSize}`,
    );
  }
  let payload: Buffer;
  if (compressionType === COMPRESSION_NONE) payload = data;
  else if (compressionType === COMPRESSION_ZSTD) payload = zstd(data, uncompressedSize);
  else throw new BinlogDecodeError('UNSUPPORTED', `transaction payload compression type ${compressionType}`);
  if (uncompressedSize !== undefined && payload.length !== uncompressedSize) {
    throw new BinlogDecodeError(
      'MALFORMED_EVENT',
      `payload decompressed to ${payload.length} bytes, uncompressed size field says ${uncompressedSize}`,
    );
  }
  return {
    kind: 'transaction_payload',
    header,
    compressionType,
    compressedSize: data.length,
    uncompressedSize: payload.length,
    payload,
  };
}

function zstd(data: Buffer, size: number | undefined): Buffer {
  try {
    const out = decompress(data, size === undefined ? undefined : new Uint8Array(size));
    return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  } catch (err) {
    throw new BinlogDecodeError(
      'MALFORMED_EVENT',
      `zstd payload does not decompress: ${(err as Error).message}`,
    );
  }
}
