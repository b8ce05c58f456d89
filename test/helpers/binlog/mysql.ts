/**
 * Builders for MySQL-only events (GTIDs of 5.7/8.0/8.4, PREVIOUS_GTIDS, TRANSACTION_PAYLOAD,
 * HEARTBEAT_V2) and the statement-context events both servers write. Re-exported by builder.ts.
 */
import { EventType } from '../../../src/binlog/constants.js';
import { packedInt } from './encoding.js';
import { buildEvent, type EventOptions } from './events.js';
import { encodeVarlenInt, encodeVarlenUint } from '../../../src/binlog/events/mysql-serialization.js';
import type { TaggedSid } from '../../../src/binlog/events/types.js';

export interface MysqlGtidFields {
  anonymous?: boolean;
  flags?: number;
  /** UUID with or without dashes; all zero for anonymous. */
  sid?: string;
  gno: bigint;
  lastCommitted?: bigint;
  sequenceNumber?: bigint;
  /** 8.0 body fields; each is written only if given (and those before it). */
  immediateCommitTimestamp?: bigint;
  originalCommitTimestamp?: bigint;
  transactionLength?: number;
  immediateServerVersion?: number;
  originalServerVersion?: number;
  commitGroupTicket?: bigint;
}

function uuidBytes(sid: string | undefined): Buffer {
  return Buffer.from((sid ?? '00000000-0000-0000-0000-000000000000').replace(/-/g, ''), 'hex');
}

function u56(v: bigint): Buffer {
  const b = Buffer.alloc(7);
  b.writeUIntLE(Number(v & 0xffffffffffffn), 0, 6);
  b[6] = Number((v >> 48n) & 0xffn);
  return b;
}

export function buildMysqlGtid(f: MysqlGtidFields, opts: EventOptions = {}): Buffer {
  const b = Buffer.alloc(42);
  b[0] = f.flags ?? 1;
  uuidBytes(f.sid).copy(b, 1);
  b.writeBigUInt64LE(f.gno, 17);
  b[25] = 2;
  b.writeBigUInt64LE(f.lastCommitted ?? 0n, 26);
  b.writeBigUInt64LE(f.sequenceNumber ?? 1n, 34);
  const parts: Buffer[] = [b];
  if (f.immediateCommitTimestamp !== undefined) {
    const original = f.originalCommitTimestamp ?? f.immediateCommitTimestamp;
    if (original === f.immediateCommitTimestamp) parts.push(u56(f.immediateCommitTimestamp));
    else parts.push(u56(f.immediateCommitTimestamp | (1n << 55n)), u56(original));
    if (f.transactionLength !== undefined) {
      parts.push(packedInt(f.transactionLength));
      if (f.immediateServerVersion !== undefined) {
        const original = f.originalServerVersion ?? f.immediateServerVersion;
        const v = Buffer.alloc(original === f.immediateServerVersion ? 4 : 8);
        if (v.length === 4) v.writeUInt32LE(f.immediateServerVersion, 0);
        else {
          v.writeUInt32LE((f.immediateServerVersion | 0x80000000) >>> 0, 0);
          v.writeUInt32LE(original, 4);
        }
        parts.push(v);
        if (f.commitGroupTicket !== undefined) {
          const t = Buffer.alloc(8);
          t.writeBigUInt64LE(f.commitGroupTicket, 0);
          parts.push(t);
        }
      }
    }
  }
  return buildEvent(f.anonymous ? EventType.ANONYMOUS_GTID : EventType.GTID, Buffer.concat(parts), opts);
}

export interface MysqlGtidTaggedFields {
  flags?: number;
  sid: string;
  gno: bigint;
  tag?: string;
  lastCommitted?: bigint;
  sequenceNumber?: bigint;
  immediateCommitTimestamp?: bigint;
  originalCommitTimestamp?: bigint;
  transactionLength?: number;
  immediateServerVersion?: number;
  originalServerVersion?: number;
  commitGroupTicket?: bigint;
}

/** GTID_TAGGED (42) in the mysql::serialization format (version 2), as MySQL 8.4 writes it. */
export function buildMysqlGtidTagged(f: MysqlGtidTaggedFields, opts: EventOptions = {}): Buffer {
  const fields: Buffer[] = [];
  const field = (id: number, value: Buffer): void => {
    fields.push(encodeVarlenUint(id), value);
  };
  field(0, encodeVarlenUint(f.flags ?? 1));
  field(1, Buffer.concat([...uuidBytes(f.sid)].map((byte) => encodeVarlenUint(byte))));
  field(2, encodeVarlenInt(f.gno));
  const tag = Buffer.from(f.tag ?? '', 'utf8');
  field(3, Buffer.concat([encodeVarlenUint(tag.length), tag]));
  field(4, encodeVarlenInt(f.lastCommitted ?? 0n));
  field(5, encodeVarlenInt(f.sequenceNumber ?? 1n));
  field(6, encodeVarlenUint(f.immediateCommitTimestamp ?? 0n));
  if (f.originalCommitTimestamp !== undefined && f.originalCommitTimestamp !== f.immediateCommitTimestamp) {
    field(7, encodeVarlenUint(f.originalCommitTimestamp));
  }
  field(8, encodeVarlenUint(f.transactionLength ?? 0));
  field(9, encodeVarlenUint(f.immediateServerVersion ?? 80400));
  if (f.originalServerVersion !== undefined && f.originalServerVersion !== f.immediateServerVersion) {
    field(10, encodeVarlenUint(f.originalServerVersion));
  }
  if (f.commitGroupTicket !== undefined && f.commitGroupTicket !== 0n)
    field(11, encodeVarlenUint(f.commitGroupTicket));
  const body = Buffer.concat(fields);
  const lastNonIgnorable = encodeVarlenUint(0);
  // payload_size counts the version byte, itself, the last-non-ignorable id and the fields.
  let size = 1 + lastNonIgnorable.length + body.length + 1;
  while (1 + encodeVarlenUint(size).length + lastNonIgnorable.length + body.length !== size) {
    size = 1 + encodeVarlenUint(size).length + lastNonIgnorable.length + body.length;
  }
  const msg = Buffer.concat([Buffer.of(2), encodeVarlenUint(size), lastNonIgnorable, body]);
  return buildEvent(EventType.GTID_TAGGED, msg, opts);
}

/** PREVIOUS_GTIDS; tagged format when any sid has a tag. */
export function buildPreviousGtids(f: { sids: TaggedSid[] }, opts: EventOptions = {}): Buffer {
  const tagged = f.sids.some((s) => s.tag !== undefined);
  const head = Buffer.alloc(8);
  const n = BigInt(f.sids.length);
  head.writeBigUInt64LE(tagged ? (1n << 56n) | (n << 8n) | 1n : n, 0);
  const parts: Buffer[] = [head];
  for (const s of f.sids) {
    parts.push(uuidBytes(s.uuid));
    if (tagged) {
      const tag = Buffer.from(s.tag ?? '', 'utf8');
      parts.push(encodeVarlenUint(tag.length), tag);
    }
    const iv = Buffer.alloc(8 + 16 * s.intervals.length);
    iv.writeBigUInt64LE(BigInt(s.intervals.length), 0);
    s.intervals.forEach((r, i) => {
      iv.writeBigUInt64LE(r.start, 8 + 16 * i);
      iv.writeBigUInt64LE(r.end, 16 + 16 * i);
    });
    parts.push(iv);
  }
  return buildEvent(EventType.PREVIOUS_GTIDS, Buffer.concat(parts), opts);
}

export function buildIntvar(f: { intvarType: number; value: bigint }, opts: EventOptions = {}): Buffer {
  const b = Buffer.alloc(9);
  b[0] = f.intvarType;
  b.writeBigUInt64LE(f.value, 1);
  return buildEvent(EventType.INTVAR, b, opts);
}

export function buildRand(f: { seed1: bigint; seed2: bigint }, opts: EventOptions = {}): Buffer {
  const b = Buffer.alloc(16);
  b.writeBigUInt64LE(f.seed1, 0);
  b.writeBigUInt64LE(f.seed2, 8);
  return buildEvent(EventType.RAND, b, opts);
}

export interface UserVarFields {
  name: string;
  /** Omit for NULL. */
  value?: { valueType: number; charset: number; bytes: Buffer; flags?: number };
}

export function buildUserVar(f: UserVarFields, opts: EventOptions = {}): Buffer {
  const name = Buffer.from(f.name, 'utf8');
  const head = Buffer.alloc(4);
  head.writeUInt32LE(name.length, 0);
  const parts: Buffer[] = [head, name, Buffer.of(f.value ? 0 : 1)];
  if (f.value) {
    const meta = Buffer.alloc(9);
    meta[0] = f.value.valueType;
    meta.writeUInt32LE(f.value.charset, 1);
    meta.writeUInt32LE(f.value.bytes.length, 5);
    parts.push(meta, f.value.bytes, Buffer.of(f.value.flags ?? 0));
  }
  return buildEvent(EventType.USER_VAR, Buffer.concat(parts), opts);
}

export function buildIncident(f: { incident: number; message: string }, opts: EventOptions = {}): Buffer {
  const msg = Buffer.from(f.message, 'utf8');
  const b = Buffer.alloc(3);
  b.writeUInt16LE(f.incident, 0);
  b[2] = msg.length;
  return buildEvent(EventType.INCIDENT, Buffer.concat([b, msg]), opts);
}

/** HEARTBEAT_V2 (41) with the file name and a 64-bit position. */
export function buildHeartbeatV2(f: { file: string; position: number }, opts: EventOptions = {}): Buffer {
  const name = Buffer.from(f.file, 'utf8');
  const pos = packedInt(f.position);
  return buildEvent(
    EventType.HEARTBEAT_V2,
    Buffer.concat([
      Buffer.of(1),
      packedInt(name.length),
      name,
      Buffer.of(2),
      packedInt(pos.length),
      pos,
      Buffer.of(0),
    ]),
    opts,
  );
}

/**
 * TRANSACTION_PAYLOAD (40) around inner events (built with `checksum: 'none'` and log_pos 0, as the
 * server writes them). 'zstd' produces a real zstd frame made of raw (stored) blocks: valid input for
 * any zstd decoder, without needing a compressor.
 */
export function buildTransactionPayload(
  f: { events: Buffer[]; compression?: 'zstd' | 'none' },
  opts: EventOptions = {},
): Buffer {
  const plain = Buffer.concat(f.events);
  const zstd = (f.compression ?? 'zstd') === 'zstd';
  const data = zstd ? zstdStoredFrame(plain) : plain;
  const field = (type: number, value: number): Buffer => {
    const v = packedInt(value);
    return Buffer.concat([packedInt(type), packedInt(v.length), v]);
  };
  const head = Buffer.concat([
    field(2, zstd ? 0 : 255),
    field(3, plain.length),
    field(1, data.length),
    Buffer.of(0),
  ]);
  return buildEvent(EventType.TRANSACTION_PAYLOAD, Buffer.concat([head, data]), opts);
}

/** zstd frame: magic, single-segment header with a 4-byte content size, raw blocks of <= 128 KiB. */
export function zstdStoredFrame(data: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUInt32LE(0xfd2fb528, 0);
  head[4] = 0xa0; // Frame_Content_Size_flag 2 (4 bytes), Single_Segment
  head.writeUInt32LE(data.length, 5);
  const parts: Buffer[] = [head];
  const max = 128 * 1024;
  let off = 0;
  do {
    const size = Math.min(max, data.length - off);
    const last = off + size >= data.length ? 1 : 0;
    const bh = Buffer.alloc(3);
    bh.writeUIntLE((size << 3) | last, 0, 3); // Block_Type 0 = raw
    parts.push(bh, data.subarray(off, off + size));
    off += size;
  } while (off < data.length);
  return Buffer.concat(parts);
}
