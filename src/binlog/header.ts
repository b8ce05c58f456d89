import type { EventHeader } from './events/types.js';

/*
 * Common header, 19 bytes, little-endian:
 *   timestamp u32 | type u8 | server_id u32 | event_size u32 | log_pos u32 | flags u16
 * event_size counts header, body and checksum; log_pos is the end of the event in the original file.
 */
export function decodeHeader(buf: Buffer): EventHeader {
  return {
    timestamp: buf.readUInt32LE(0),
    typeCode: buf[4],
    serverId: buf.readUInt32LE(5),
    eventSize: buf.readUInt32LE(9),
    nextPosition: buf.readUInt32LE(13),
    flags: buf.readUInt16LE(17),
  };
}
