import { crc32 } from 'node:zlib';
import { EventFlag } from './constants.js';

/**
 * CRC32 of an event without its trailing 4 checksum bytes. For a FORMAT_DESCRIPTION the IN_USE flag
 * (low bit of the flags at offset 17) is treated as cleared: the server computes the CRC before it sets
 * the flag in an open file, and clears it again when it sends the event.
 */
export function eventCrc32(event: Buffer, isFormatDescription: boolean): number {
  const end = event.length - 4;
  const flagsLow = event[17];
  if (!isFormatDescription || (flagsLow & EventFlag.BINLOG_IN_USE) === 0) {
    return crc32(event.subarray(0, end));
  }
  let crc = crc32(event.subarray(0, 17));
  crc = crc32(Buffer.of(flagsLow & ~EventFlag.BINLOG_IN_USE), crc);
  return crc32(event.subarray(18, end), crc);
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
