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
 * COM_BINLOG_DUMP_GTID (0x1e, MySQL; sql/rpl_source.cc com_binlog_dump_gtid):
 *   cmd(1) flags(2) server_id(4) name_size(4) name pos(8) data_size(4) data(= encoded GTID set)
 *   An empty name makes the server start at the first binlog file whose PREVIOUS_GTIDS the set
 *   covers and skip every transaction in the set; pos must still be >= 4. MySQL 8.3+ flag bit 2
 *   (SKIP_TAGGED_GTIDS) leaves tagged transactions out of the stream; we never set it.
 * Reply stream, one packet per event:
 *   0x00 [0xEF ack_flag(1)]? event   — an event, optionally with the semi-sync prefix
 *   0xFE (short packet)               — EOF (non-blocking dump reached the end)
 *   0xFF …                            — error (mysql2 turns it into an Error before we see it)
 * Events over 16 MB arrive split into 0xFFFFFF-byte packets; mysql2's packet parser joins them before
 * we see the payload, so `parseStreamPacket` always gets one whole event.
 */
import { encodeVarlenUint } from '../binlog/events/mysql-serialization.js';
import { normalizeMysqlGtidSet, type MysqlGtidSet } from '../binlog/gtid/mysql-set.js';
import { CachetailError } from '../errors.js';

export const COM_BINLOG_DUMP = 0x12;
export const COM_REGISTER_SLAVE = 0x15;
export const COM_BINLOG_DUMP_GTID = 0x1e;
export const BINLOG_DUMP_NON_BLOCK = 0x01;
export const MARIADB_BINLOG_SEND_ANNOTATE_ROWS_EVENT = 0x02;
/** MySQL 8.3+: the server drops tagged transactions from the stream (their keys would be lost). */
export const MYSQL_BINLOG_DUMP_SKIP_TAGGED_GTIDS = 0x04;
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
    throw new CachetailError('PROTOCOL_FIELD_TOO_LONG', `${what} is longer than 255 bytes`);
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
    );
  }
  const head = Buffer.alloc(11);
  head.writeUInt8(COM_BINLOG_DUMP, 0);
  head.writeUInt32LE(d.position, 1);
  head.writeUInt16LE(d.flags, 5);
  head.writeUInt32LE(d.serverId >>> 0, 7);
  return Buffer.concat([head, Buffer.from(d.file, 'utf8')]);
}

/**
 * A MySQL GTID set in the binary form of `Gtid_set::encode` (sql/rpl_gtid_set.cc), the layout of the
 * PREVIOUS_GTIDS body (decodePreviousGtids in binlog/events/mysql-gtid.ts reads it back):
 *   untagged: n_sids u64 | n_sids × ( uuid 16 | n_intervals u64 | n_intervals × (start u64, end u64) )
 *   tagged (MySQL 8.3+, used when any entry has a tag):
 *     (1 << 56) | (n_sids << 8) | 1 as u64 — format byte 1 on top and at the bottom
 *     | n_sids × ( uuid 16 | tag: varlen length + bytes (length 0 = untagged) | n_intervals u64 | … )
 * Intervals are [start, end) with end exclusive, as in MysqlGtidSet. Entries go out in the set's normal
 * form (uuid, then untagged before tags), the order the server itself writes.
 */
export function encodeMysqlGtidSet(set: MysqlGtidSet): Buffer {
  const entries = normalizeMysqlGtidSet(set);
  const tagged = entries.some((e) => e.tag !== undefined);
  const head = Buffer.alloc(8);
  const n = BigInt(entries.length);
  head.writeBigUInt64LE(tagged ? (1n << 56n) | (n << 8n) | 1n : n, 0);
  const parts: Buffer[] = [head];
  for (const e of entries) {
    parts.push(uuidBytes(e.uuid));
    if (tagged) {
      const tag = Buffer.from(e.tag ?? '', 'utf8');
      parts.push(encodeVarlenUint(tag.length), tag);
    }
    const iv = Buffer.alloc(8 + 16 * e.intervals.length);
    iv.writeBigUInt64LE(BigInt(e.intervals.length), 0);
    e.intervals.forEach((r, i) => {
      iv.writeBigUInt64LE(r.start, 8 + 16 * i);
      iv.writeBigUInt64LE(r.end, 16 + 16 * i);
    });
    parts.push(iv);
  }
  return Buffer.concat(parts);
}

function uuidBytes(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) {
    throw new CachetailError('PROTOCOL_FIELD_INVALID', `${JSON.stringify(uuid)} is not a UUID`);
  }
  return Buffer.from(hex, 'hex');
}

export interface BinlogDumpGtidRequest {
  serverId: number;
  /** '' = let the server find the first file from the GTID set (auto-positioning). */
  file: string;
  /** At least 4 (the server refuses less), even with an empty file name. */
  position: number;
  flags: number;
  /** Every transaction already read: the server sends only those not in it. */
  gtidSet: MysqlGtidSet;
}

export function encodeBinlogDumpGtid(d: BinlogDumpGtidRequest): Buffer {
  if (!Number.isSafeInteger(d.position) || d.position < 4) {
    throw new CachetailError(
      'PROTOCOL_POSITION_RANGE',
      `COM_BINLOG_DUMP_GTID takes a position of at least 4, got ${d.position}`,
    );
  }
  const name = Buffer.from(d.file, 'utf8');
  const data = encodeMysqlGtidSet(d.gtidSet);
  const head = Buffer.alloc(11);
  head.writeUInt8(COM_BINLOG_DUMP_GTID, 0);
  head.writeUInt16LE(d.flags, 1);
  head.writeUInt32LE(d.serverId >>> 0, 3);
  head.writeUInt32LE(name.length, 7);
  const mid = Buffer.alloc(12);
  mid.writeBigUInt64LE(BigInt(d.position), 0);
  mid.writeUInt32LE(data.length, 8);
  return Buffer.concat([head, name, mid, data]);
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
