import { Cursor } from '../cursor.js';
import { BinlogDecodeError } from '../errors.js';
import { EventFlag, EVENT_HEADER_LENGTH } from '../constants.js';
import type { BodyContext } from './context.js';
import type {
  BinlogCheckpointEvent,
  ChecksumAlgorithm,
  EventHeader,
  FormatDescriptionEvent,
  HeartbeatEvent,
  IncidentEvent,
  RotateEvent,
  StopEvent,
  XidEvent,
} from './types.js';

/*
 * FORMAT_DESCRIPTION (15), body after the 19-byte header:
 *   binlog_version u16 | server_version char[50] NUL-padded | create_timestamp u32 | header_length u8
 *   | post_header_length u8 × (one per event type) | checksum_alg u8 | crc32 u32
 * The last two fields exist only from MySQL 5.6.1 / MariaDB 5.3 on; before that the array runs to the
 * end. checksum_alg: 0 = off, 1 = CRC32. The FDE itself always carries the 4 CRC bytes then, even when
 * it declares 'off' for the rest of the file (their value is a real CRC32 or 0). The CRC is computed with
 * the IN_USE flag cleared.
 */
const FDE_FIXED = 2 + 50 + 4 + 1;

export function decodeFormatDescription(event: Buffer, header: EventHeader): FormatDescriptionEvent {
  const c = new Cursor(event, EVENT_HEADER_LENGTH, header.eventSize);
  const binlogVersion = c.u16('binlog_version');
  if (binlogVersion !== 4) {
    throw new BinlogDecodeError('UNSUPPORTED', `binlog version ${binlogVersion} (only v4 is supported)`);
  }
  const versionBytes = c.bytes(50, 'server_version');
  const nul = versionBytes.indexOf(0);
  const serverVersion = versionBytes.toString('latin1', 0, nul < 0 ? 50 : nul);
  const createTimestamp = c.u32('create_timestamp');
  const headerLength = c.u8('header_length');
  if (headerLength !== EVENT_HEADER_LENGTH) {
    throw new BinlogDecodeError('UNSUPPORTED', `event header length ${headerLength} (only 19 is supported)`);
  }
  let checksum: ChecksumAlgorithm = 'none';
  let arrayEnd = header.eventSize;
  if (hasChecksumAlgorithm(serverVersion)) {
    if (header.eventSize - EVENT_HEADER_LENGTH < FDE_FIXED + 5) {
      throw new BinlogDecodeError('MALFORMED_EVENT', 'format description too short for its checksum fields');
    }
    const alg = event[header.eventSize - 5];
    if (alg === 1) checksum = 'crc32';
    else if (alg !== 0) throw new BinlogDecodeError('UNSUPPORTED', `checksum algorithm ${alg}`);
    arrayEnd = header.eventSize - 5;
  }
  const ownCrc = arrayEnd !== header.eventSize;
  const postHeaderLengths = Uint8Array.from(event.subarray(c.pos, arrayEnd));
  return {
    kind: 'format_description',
    header,
    binlogVersion,
    serverVersion,
    createTimestamp,
    headerLength,
    postHeaderLengths,
    checksum,
    mariadb: serverVersion.includes('MariaDB'),
    hasChecksumField: ownCrc,
  };
}

/** MySQL 5.6.1+ and MariaDB 5.3+ end the FDE with checksum_alg + CRC. */
function hasChecksumAlgorithm(serverVersion: string): boolean {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(serverVersion);
  if (!m) return false;
  const v = Number(m[1]) * 10000 + Number(m[2]) * 100 + Number(m[3]);
  return serverVersion.includes('MariaDB') ? v >= 50300 : v >= 50601;
}

/*
 * ROTATE (4): position u64 | next file name (to the end of the body, no NUL).
 * The fake ROTATE at the start of a dump has the ARTIFICIAL flag (MySQL) or log_pos 0 (MariaDB).
 */
export function decodeRotate(c: Cursor, header: EventHeader): RotateEvent {
  const position = c.u64n('rotate position');
  const nextFile = c.restStr();
  const artificial = (header.flags & EventFlag.ARTIFICIAL) !== 0 || header.nextPosition === 0;
  return { kind: 'rotate', header, position, nextFile, artificial };
}

/* XID (16): xid u64 (after the post-header, which is empty except in pre-GA 5.2 files). */
export function decodeXid(c: Cursor, header: EventHeader, ctx: BodyContext): XidEvent {
  c.skip(ctx.postHeaderLength(header.typeCode), 'xid post-header');
  return { kind: 'xid', header, xid: c.u64('xid') };
}

/* STOP (3): empty body. */
export function decodeStop(header: EventHeader): StopEvent {
  return { kind: 'stop', header };
}

/* HEARTBEAT (27): current binlog file name to the end of the body; the position is header log_pos. */
export function decodeHeartbeat(c: Cursor, header: EventHeader): HeartbeatEvent {
  return { kind: 'heartbeat', header, version: 1, file: c.restStr(), position: header.nextPosition };
}

/*
 * HEARTBEAT_V2 (41, MySQL 8.0.26+): fields of type packed | length packed | value, until type 0 or the
 * end (unknown types are skipped):
 * 1 = binlog file name, 2 = position (a packed integer inside the value).
 */
export function decodeHeartbeatV2(c: Cursor, header: EventHeader): HeartbeatEvent {
  let file = '';
  let position = header.nextPosition;
  while (c.remaining > 0) {
    const type = c.packed('heartbeat field type');
    if (type === 0) break;
    const len = c.packed('heartbeat field length');
    const end = c.pos + len;
    c.need(len, 'heartbeat field');
    if (type === 1) file = c.str(len, 'heartbeat file name');
    else if (type === 2) position = c.packed('heartbeat position');
    c.pos = end;
  }
  return { kind: 'heartbeat', header, version: 2, file, position };
}

/* INCIDENT (26): post-header incident u16 | body: message_length u8 | message. */
export function decodeIncident(c: Cursor, header: EventHeader, ctx: BodyContext): IncidentEvent {
  const start = c.pos;
  const incident = c.u16('incident');
  c.pos = start;
  c.skip(Math.max(2, ctx.postHeaderLength(header.typeCode)), 'incident post-header');
  const message = c.remaining > 0 ? c.str(c.u8('incident message length'), 'incident message') : '';
  return { kind: 'incident', header, incident, message };
}

/* MariaDB BINLOG_CHECKPOINT (161): name_length u32 | name. */
export function decodeBinlogCheckpoint(c: Cursor, header: EventHeader): BinlogCheckpointEvent {
  const len = c.u32('checkpoint name length');
  return { kind: 'binlog_checkpoint', header, file: c.str(len, 'checkpoint name') };
}
