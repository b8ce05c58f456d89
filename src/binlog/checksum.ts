import { crc32 as zlibCrc32 } from 'node:zlib';
import { EventFlag } from './constants.js';

/*
 * CRC-32 (IEEE 802.3, reflected polynomial 0xedb88320), the binlog's event checksum. zlib's is the
 * fastest over long runs, but each call into it costs about as much as a 256-byte CRC: most events are
 * shorter than that, so they are summed here, slice-by-8 (eight table lookups per 8 bytes).
 */
const ZLIB_FROM = 256;
const TABLES = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n];
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff] ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

/** CRC-32 of bytes [start, end) of `buf`, continuing from `crc` (the CRC of what came before, or 0). */
export function crc32(buf: Uint8Array, start = 0, end = buf.length, crc = 0): number {
  if (end - start >= ZLIB_FROM) {
    return zlibCrc32(start === 0 && end === buf.length ? buf : buf.subarray(start, end), crc);
  }
  const t = TABLES;
  let c = ~crc;
  let i = start;
  for (const last8 = end - 8; i <= last8; i += 8) {
    const a = c ^ (buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24));
    c =
      t[1792 + (a & 0xff)] ^
      t[1536 + ((a >>> 8) & 0xff)] ^
      t[1280 + ((a >>> 16) & 0xff)] ^
      t[1024 + (a >>> 24)] ^
      t[768 + buf[i + 4]] ^
      t[512 + buf[i + 5]] ^
      t[256 + buf[i + 6]] ^
      t[buf[i + 7]];
  }
  for (; i < end; i++) c = t[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/**
 * CRC32 of an event without its trailing 4 checksum bytes. For a FORMAT_DESCRIPTION the IN_USE flag
 * (low bit of the flags at offset 17) is treated as cleared: the server computes the CRC before it sets
 * the flag in an open file, and clears it again when it sends the event.
 */
export function eventCrc32(event: Buffer, isFormatDescription: boolean): number {
  const end = event.length - 4;
  const flagsLow = event[17];
  if (!isFormatDescription || (flagsLow & EventFlag.BINLOG_IN_USE) === 0) {
    return crc32(event, 0, end);
  }
  let crc = crc32(event, 0, 17);
  crc = crc32(Buffer.of(flagsLow & ~EventFlag.BINLOG_IN_USE), 0, 1, crc);
  return crc32(event, 18, end, crc);
}

export function storedCrc32(event: Buffer): number {
  return event.readUInt32LE(event.length - 4);
}

/**
 * CRC32 of any bytes followed by their own CRC32 (little-endian): a constant of the polynomial. Checking
 * a whole event against it takes one pass and no subarray, which matters at hundreds of thousands of
 * events per second; the two-step computation is only needed to report a mismatch.
 */
const CRC32_RESIDUE = 0x2144df1c;

/** Whether the event's trailing CRC32 is right. For an FDE the IN_USE flag counts as cleared. */
export function hasValidCrc32(event: Buffer, isFormatDescription: boolean): boolean {
  if (!isFormatDescription || (event[17] & EventFlag.BINLOG_IN_USE) === 0)
    return crc32(event) === CRC32_RESIDUE;
  return eventCrc32(event, true) === storedCrc32(event);
}
