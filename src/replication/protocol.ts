/**
 * The replica side of the MySQL/MariaDB replication protocol: the command packets a replica sends and
 * the framing of the server's binlog stream. Pure: buffers in, buffers out.
 *
 * COM_REGISTER_SLAVE (0x15):
 *   cmd(1) server_id(4) host_len(1) host user_len(1) user pass_len(1) pass port(2) rank(4)=0 master_id(4)=0
 * COM_BINLOG_DUMP (0x12):
 *   cmd(1) pos(4) flags(2) server_id(4) filename(rest)
 *   flags bit 0 = BINLOG_DUMP_NON_BLOCK (reply EOF at the end instead of waiting);
 *   bit 1 means SEND_ANNOTATE_ROWS on MariaDB but USE_HEARTBEAT_EVENT_V2 on MySQL.
 * Reply stream, one packet per event:
 *   0x00 [0xEF ack_flag(1)]? event   — an event, optionally with the semi-sync prefix
 *   0xFE (short packet)               — EOF (non-blocking dump reached the end)
 *   0xFF …                            — error (mysql2 turns it into an Error before we see it)
 * Events over 16 MB arrive split into 0xFFFFFF-byte packets; mysql2's packet parser joins them before
 * we see the payload, so `parseStreamPacket` always gets one whole event.
 */
import { CachetailError } from '../errors.js';

export const COM_BINLOG_DUMP = 0x12;
export const COM_REGISTER_SLAVE = 0x15;
export const BINLOG_DUMP_NON_BLOCK = 0x01;
export const MARIADB_BINLOG_SEND_ANNOTATE_ROWS_EVENT = 0x02;
const SEMI_SYNC_INDICATOR = 0xef;

export interface RegisterReplica {
  serverId: number;
  host?: string;
  user?: string;
  password?: string;
  port?: number;
}

function shortString(value: string, what: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > 255) {
    throw new CachetailError('PROTOCOL_FIELD_TOO_LONG', `${what} is longer than 255 bytes`, {
      retryable: false,
    });
  }
  return Buffer.concat([Buffer.from([bytes.length]), bytes]);
}

export function encodeRegisterReplica(r: RegisterReplica): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(COM_REGISTER_SLAVE, 0);
  head.writeUInt32LE(r.serverId >>> 0, 1);
  const tail = Buffer.alloc(10);
  tail.writeUInt16LE(r.port ?? 0, 0);
  // rank and master_id stay 0: the server ignores them.
  return Buffer.concat([
    head,
    shortString(r.host ?? '', 'report host'),
    shortString(r.user ?? '', 'report user'),
    shortString(r.password ?? '', 'report password'),
    tail,
  ]);
}

export interface BinlogDumpRequest {
  serverId: number;
  file: string;
  position: number;
  flags: number;
}

export function encodeBinlogDump(d: BinlogDumpRequest): Buffer {
  if (d.position < 0 || d.position > 0xffffffff) {
    throw new CachetailError(
      'PROTOCOL_POSITION_RANGE',
      `COM_BINLOG_DUMP takes a 32-bit position, got ${d.position}`,
      { retryable: false },
    );
  }
  const head = Buffer.alloc(11);
  head.writeUInt8(COM_BINLOG_DUMP, 0);
  head.writeUInt32LE(d.position, 1);
  head.writeUInt16LE(d.flags, 5);
  head.writeUInt32LE(d.serverId >>> 0, 7);
  return Buffer.concat([head, Buffer.from(d.file, 'utf8')]);
}

export type StreamPacket =
  | { kind: 'event'; event: Buffer; ackRequested: boolean }
  | { kind: 'eof' }
  | { kind: 'error'; message: string };

/** Splits one reply-stream packet (payload without the 4-byte packet header). */
export function parseStreamPacket(payload: Buffer, semiSync: boolean): StreamPacket {
  if (payload.length === 0) {
    return { kind: 'error', message: 'empty packet in the binlog stream' };
  }
  const marker = payload[0];
  if (marker === 0xfe && payload.length < 9) return { kind: 'eof' };
  if (marker === 0xff) {
    return { kind: 'error', message: payload.subarray(payload.length > 9 ? 9 : 3).toString('utf8') };
  }
  if (marker !== 0x00) {
    return {
      kind: 'error',
      message: `unexpected packet marker 0x${(marker ?? 0).toString(16)} in the binlog stream`,
    };
  }
  if (semiSync && payload[1] === SEMI_SYNC_INDICATOR) {
    return { kind: 'event', event: payload.subarray(3), ackRequested: payload[2] === 0x01 };
  }
  return { kind: 'event', event: payload.subarray(1), ackRequested: false };
}
