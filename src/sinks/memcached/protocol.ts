/**
 * The slice of the memcached binary protocol the sink speaks (memcached `protocol_binary.h`; the
 * protocol memjs uses too). Every packet has a 24-byte header, big-endian:
 *
 *   0  magic       0x80 request, 0x81 response
 *   1  opcode      0x0a NOOP, 0x11 SETQ, 0x14 DELETEQ, 0x18 FLUSHQ
 *   2  key length  (uint16)
 *   4  extras length (uint8), 5 data type (0)
 *   6  vbucket (request) / status (response)   (uint16)
 *   8  total body length = extras + key + value (uint32)
 *  12  opaque      echoed back unchanged (uint32)
 *  16  CAS         (uint64, 0 here)
 *  24  extras, key, value
 *
 * We send *quiet* requests: memcached answers a quiet request only when it fails (DELETEQ of a missing key
 * answers status 1, "not found"), and processes one connection's requests in order. A group of quiet
 * requests followed by a NOOP is therefore acknowledged as a whole by the NOOP's answer; the answers in
 * between name, by opaque, the requests that did not simply succeed. Checked against memcached 1.6.18.
 * A key longer than 250 bytes makes memcached answer "invalid arguments" and close the connection, so keys
 * are validated before they get here (`keyBytesOk`).
 */
import { CachetailError } from '../../errors.js';

export const Opcode = { Noop: 0x0a, SetQ: 0x11, DeleteQ: 0x14, FlushQ: 0x18 } as const;
type Opcode = (typeof Opcode)[keyof typeof Opcode];

export const Status = {
  Ok: 0x0000,
  NotFound: 0x0001,
  TooLarge: 0x0003,
  InvalidArguments: 0x0004,
  OutOfMemory: 0x0082,
} as const;

export const HEADER = 24;
export const MAX_KEY_BYTES = 250;

/** What one group of quiet requests does with each of its keys. */
export type GroupRequest =
  | { kind: 'delete'; keys: readonly string[] }
  | { kind: 'tombstone'; keys: readonly string[]; value: Buffer; flags: number; ttlSeconds: number }
  | { kind: 'flush' }
  | { kind: 'noop' };

export function keyBytesOk(key: string): boolean {
  // Fast path: a string of at most 83 UTF-16 units cannot exceed 250 UTF-8 bytes.
  if (key.length === 0) return false;
  if (key.length <= 83) return true;
  return Buffer.byteLength(key, 'utf8') <= MAX_KEY_BYTES;
}

/** The sink checks keys with keyBytesOk before any reaches a lane: one here is a bug (INTERNAL). */
function invalidKey(bytes: number): CachetailError {
  return new CachetailError('INTERNAL', `memcached key of ${bytes} bytes`);
}

function header(
  buf: Buffer,
  at: number,
  opcode: Opcode,
  keyLength: number,
  extras: number,
  body: number,
  opaque: number,
) {
  buf.fill(0, at, at + HEADER);
  buf[at] = 0x80;
  buf[at + 1] = opcode;
  buf.writeUInt16BE(keyLength, at + 2);
  buf[at + 4] = extras;
  buf.writeUInt32BE(body, at + 8);
  buf.writeUInt32BE(opaque, at + 12);
}

/** Number of requests before the NOOP: request i has opaque `firstOpaque + i`, the NOOP the next one. */
export function requestCount(group: GroupRequest): number {
  switch (group.kind) {
    case 'delete':
    case 'tombstone':
      return group.keys.length;
    case 'flush':
      return 1;
    case 'noop':
      return 0;
  }
}

/**
 * Encodes the group's quiet requests and the closing NOOP into one buffer (one socket write). Keys are
 * written as UTF-8 straight into the buffer; the buffer is sized for the worst case (3 bytes per UTF-16
 * unit) and trimmed, which is cheaper than measuring every key first.
 */
export function encodeGroup(group: GroupRequest, firstOpaque: number): Buffer {
  let opaque = firstOpaque >>> 0;
  const next = () => {
    const o = opaque;
    opaque = (opaque + 1) >>> 0;
    return o;
  };
  let max = HEADER;
  const keys = group.kind === 'delete' || group.kind === 'tombstone' ? group.keys : [];
  const perRequest = group.kind === 'tombstone' ? HEADER + 8 + group.value.length : HEADER;
  for (const key of keys) max += perRequest + 3 * key.length;
  if (group.kind === 'flush') max += HEADER;
  const buf = Buffer.allocUnsafe(max);
  let at = 0;
  if (group.kind === 'delete') {
    for (const key of keys) {
      const n = buf.write(key, at + HEADER, 'utf8');
      if (n === 0 || n > MAX_KEY_BYTES) throw invalidKey(n);
      header(buf, at, Opcode.DeleteQ, n, 0, n, next());
      at += HEADER + n;
    }
  } else if (group.kind === 'tombstone') {
    for (const key of keys) {
      const n = buf.write(key, at + HEADER + 8, 'utf8');
      if (n === 0 || n > MAX_KEY_BYTES) throw invalidKey(n);
      header(buf, at, Opcode.SetQ, n, 8, 8 + n + group.value.length, next());
      buf.writeUInt32BE(group.flags >>> 0, at + HEADER);
      buf.writeUInt32BE(group.ttlSeconds >>> 0, at + HEADER + 4);
      group.value.copy(buf, at + HEADER + 8 + n);
      at += HEADER + 8 + n + group.value.length;
    }
  } else if (group.kind === 'flush') {
    header(buf, at, Opcode.FlushQ, 0, 0, 0, next());
    at += HEADER;
  }
  header(buf, at, Opcode.Noop, 0, 0, 0, next());
  at += HEADER;
  return buf.subarray(0, at);
}

export interface ResponseHeader {
  opcode: number;
  status: number;
  opaque: number;
  bodyLength: number;
}

/**
 * Splits a byte stream into response headers (bodies are error texts we do not need). Keeps the
 * unfinished tail of a chunk for the next one; throws on a byte that is not a response's magic, after
 * which the connection cannot be trusted.
 */
export class ResponseReader {
  private tail: Buffer | null = null;

  push(chunk: Buffer, onResponse: (r: ResponseHeader) => void): void {
    const buf = this.tail ? Buffer.concat([this.tail, chunk]) : chunk;
    this.tail = null;
    let at = 0;
    while (buf.length - at >= HEADER) {
      if (buf[at] !== 0x81) {
        throw new CachetailError(
          'MEMCACHED_PROTOCOL',
          `memcached: bad response magic 0x${(buf[at] ?? 0).toString(16)}`,
        );
      }
      const bodyLength = buf.readUInt32BE(at + 8);
      if (buf.length - at < HEADER + bodyLength) break;
      onResponse({
        opcode: buf[at + 1] ?? 0,
        status: buf.readUInt16BE(at + 6),
        opaque: buf.readUInt32BE(at + 12),
        bodyLength,
      });
      at += HEADER + bodyLength;
    }
    if (at < buf.length) this.tail = Buffer.from(buf.subarray(at));
  }
}
