import { decompress } from 'fzstd';
import { MAX_UNCOMPRESSED_BYTES } from '../constants.js';
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

/*
 * fzstd writes into a buffer of the declared size when given one; without one it allocates the frame
 * header's Frame_Content_Size or Window_Size. Both sizes come from the event, so they are checked
 * against the hard cap (and against each other) before anything is allocated.
 */
function zstd(data: Buffer, size: number | undefined): Buffer {
  const frame = zstdFrameSizes(data);
  const largest = size ?? Math.max(frame?.contentSize ?? 0, frame?.windowSize ?? 0);
  if (largest > MAX_UNCOMPRESSED_BYTES) {
    throw new BinlogDecodeError(
      'UNSUPPORTED',
      `transaction payload of ${largest} bytes uncompressed is over the ${MAX_UNCOMPRESSED_BYTES}-byte limit`,
    );
  }
  if (size !== undefined && frame?.contentSize !== undefined && frame.contentSize > size) {
    throw new BinlogDecodeError(
      'MALFORMED_EVENT',
      `zstd frame holds ${frame.contentSize} bytes, uncompressed size field says ${size}`,
    );
  }
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

/** Frame_Content_Size and Window_Size from the first zstd frame header (RFC 8878 3.1.1.1), if any. */
function zstdFrameSizes(d: Buffer): { contentSize: number | undefined; windowSize: number } | undefined {
  if (d.length < 6 || d.readUInt32LE(0) !== 0xfd2fb528) return undefined; // fzstd reports it
  const descriptor = d[4];
  const single = (descriptor & 0x20) !== 0;
  let p = 5;
  let windowSize = 0;
  if (!single) {
    const w = d[p++];
    const base = 2 ** (10 + (w >> 3));
    windowSize = base + (base / 8) * (w & 7);
  }
  p += [0, 1, 2, 4][descriptor & 3];
  const fcsBytes = [single ? 1 : 0, 2, 4, 8][descriptor >> 6];
  if (fcsBytes === 0 || p + fcsBytes > d.length) return { contentSize: undefined, windowSize };
  let contentSize: number;
  if (fcsBytes === 1) contentSize = d[p]!;
  else if (fcsBytes === 2) contentSize = d.readUInt16LE(p) + 256;
  else if (fcsBytes === 4) contentSize = d.readUInt32LE(p);
  else contentSize = Number(d.readBigUInt64LE(p));
  return { contentSize, windowSize: single ? contentSize : windowSize };
}
