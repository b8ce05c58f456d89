import { BinlogDecodeError } from './errors.js';

/**
 * A read position inside one event body. Every read is bounds-checked against `end` and fails with
 * MALFORMED_EVENT: a length field that points past the body means the event is corrupt, the file was
 * already checked to hold all `event_size` bytes. Byte ranges are returned as subarrays (no copy).
 */
export class Cursor {
  pos: number;

  constructor(
    readonly buf: Buffer,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.end) {
      throw new BinlogDecodeError(
        'MALFORMED_EVENT',
        `${what} needs ${n} bytes at body offset ${this.pos}, only ${this.end - this.pos} left`,
      );
    }
  }

  u8(what = 'uint8'): number {
    this.need(1, what);
    return this.buf[this.pos++];
  }

  u16(what = 'uint16'): number {
    this.need(2, what);
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }

  u24(what = 'uint24'): number {
    this.need(3, what);
    const v = this.buf.readUIntLE(this.pos, 3);
    this.pos += 3;
    return v;
  }

  u32(what = 'uint32'): number {
    this.need(4, what);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  /** Unsigned little-endian integer of 1..6 bytes as a number. */
  uint(n: number, what = 'uint'): number {
    this.need(n, what);
    const v = this.buf.readUIntLE(this.pos, n);
    this.pos += n;
    return v;
  }

  u64(what = 'uint64'): bigint {
    this.need(8, what);
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  /** An 8-byte count or position that must fit a JS number (2^53). */
  u64n(what = 'uint64'): number {
    const v = this.u64(what);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new BinlogDecodeError('MALFORMED_EVENT', `${what} ${v} is larger than 2^53`);
    }
    return Number(v);
  }

  /** MySQL length-encoded ("packed") integer; 0xfb (SQL NULL) is not valid here. */
  packed(what = 'packed integer'): number {
    const first = this.u8(what);
    if (first < 0xfb) return first;
    if (first === 0xfc) return this.u16(what);
    if (first === 0xfd) return this.u24(what);
    if (first === 0xfe) return this.u64n(what);
    throw new BinlogDecodeError(
      'MALFORMED_EVENT',
      `${what} starts with invalid byte 0x${first.toString(16)}`,
    );
  }

  bytes(n: number, what = 'bytes'): Buffer {
    this.need(n, what);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** All bytes up to the end of the body. */
  rest(): Buffer {
    const b = this.buf.subarray(this.pos, this.end);
    this.pos = this.end;
    return b;
  }

  str(n: number, what = 'string'): string {
    this.need(n, what);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  restStr(): string {
    const s = this.buf.toString('utf8', this.pos, this.end);
    this.pos = this.end;
    return s;
  }

  /** A string terminated by NUL (the NUL is consumed). */
  cstr(what = 'NUL-terminated string'): string {
    const nul = this.buf.indexOf(0, this.pos);
    if (nul < 0 || nul >= this.end) {
      throw new BinlogDecodeError('MALFORMED_EVENT', `${what} at body offset ${this.pos} has no NUL`);
    }
    const s = this.buf.toString('utf8', this.pos, nul);
    this.pos = nul + 1;
    return s;
  }

  skip(n: number, what = 'field'): void {
    this.need(n, what);
    this.pos += n;
  }
}
