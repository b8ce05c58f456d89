import { Cursor } from '../cursor.js';
import { BinlogDecodeError } from '../errors.js';
import { EventType } from '../constants.js';
import { formatMysqlGtidSet, normalizeMysqlGtidSet } from '../gtid/mysql-set.js';
import type { BodyContext } from './context.js';
import { readVarlenInt, readVarlenNumber, readVarlenUint } from './mysql-serialization.js';
import type { EventHeader, GtidInterval, MysqlGtidEvent, PreviousGtidsEvent, TaggedSid } from './types.js';

/*
 * MySQL GTID (33) / ANONYMOUS_GTID (34):
 *   post-header: flags u8 | sid 16 bytes | gno i64
 *                | (5.7.5+) ts_type u8 = 2 | last_committed i64 | sequence_number i64
 *   body, each part present only if bytes remain (8.0.1+):
 *     immediate_commit_timestamp u56 (µs; bit 55 set: original_commit_timestamp u56 follows, else equal)
 *     | transaction_length packed integer
 *     | immediate_server_version u32 (bit 31 set: original_server_version u32 follows, else equal)
 *     | commit_group_ticket u64 (8.0.27+, only when set)
 */
export function decodeMysqlGtid(c: Cursor, header: EventHeader, ctx: BodyContext): MysqlGtidEvent {
  const anonymous = header.typeCode === EventType.ANONYMOUS_GTID;
  const postHeader = ctx.postHeaderLength(header.typeCode);
  const flags = c.u8('gtid flags');
  const sid = formatUuid(c.bytes(16, 'sid'));
  const gno = c.u64('gno');
  const ev: MysqlGtidEvent = {
    kind: 'mysql_gtid',
    header,
    anonymous,
    tagged: false,
    flags,
    sid,
    tag: undefined,
    gno,
    gtid: anonymous ? 'ANONYMOUS' : `${sid}:${gno}`,
    lastCommitted: undefined,
    sequenceNumber: undefined,
    immediateCommitTimestamp: undefined,
    originalCommitTimestamp: undefined,
    transactionLength: undefined,
    immediateServerVersion: undefined,
    originalServerVersion: undefined,
    commitGroupTicket: undefined,
  };
  // A post-header length of 0 means the FDE (e.g. a MariaDB one) does not know the type: go by content.
  if (!((postHeader === 0 || postHeader >= 42) && c.remaining >= 17 && c.buf[c.pos] === 2)) return ev;
  c.skip(1);
  ev.lastCommitted = c.u64('last_committed');
  ev.sequenceNumber = c.u64('sequence_number');
  if (c.remaining >= 7) {
    const immediate = BigInt(c.uint(6, 'commit timestamp')) | (BigInt(c.u8('commit timestamp')) << 48n);
    ev.immediateCommitTimestamp = immediate & ~(1n << 55n);
    ev.originalCommitTimestamp =
      (immediate & (1n << 55n)) !== 0n
        ? BigInt(c.uint(6, 'original commit timestamp')) | (BigInt(c.u8('original commit timestamp')) << 48n)
        : ev.immediateCommitTimestamp;
  }
  if (c.remaining > 0) ev.transactionLength = c.packed('transaction_length');
  if (c.remaining >= 4) {
    const immediate = c.u32('immediate_server_version');
    ev.immediateServerVersion = immediate & 0x7fffffff;
    ev.originalServerVersion =
      (immediate & 0x80000000) !== 0 ? c.u32('original_server_version') : ev.immediateServerVersion;
  }
  if (c.remaining >= 8) ev.commitGroupTicket = c.u64('commit_group_ticket');
  return ev;
}

/*
 * MySQL GTID_TAGGED (42, 8.3+), in the mysql::serialization message format:
 *   serialization_version u8 | payload_size varlen (whole message incl. the version byte)
 *   | last_non_ignorable_field_id varlen | { field_id varlen, value }
 * Fields: 0 flags varlen | 1 sid: 16 × varlen byte | 2 gno signed varlen | 3 tag: varlen length + bytes
 *   | 4 last_committed signed | 5 sequence_number signed | 6 immediate_commit_timestamp | 7 original
 *   commit timestamp (absent: = immediate) | 8 transaction_length | 9 immediate_server_version
 *   | 10 original_server_version (absent: = immediate) | 11 commit_group_ticket
 * An unknown field id above last_non_ignorable_field_id ends decoding (its size is unknowable); one at or
 * below it is an error, as in the server.
 */
export function decodeMysqlGtidTagged(c: Cursor, header: EventHeader): MysqlGtidEvent {
  const start = c.pos;
  const version = c.u8('serialization version');
  const payloadSize = readVarlenNumber(c, 'payload size');
  const lastNonIgnorable = readVarlenNumber(c, 'last non-ignorable field id');
  if (payloadSize < c.pos - start || start + payloadSize > c.end) {
    throw new BinlogDecodeError(
      'MALFORMED_EVENT',
      `tagged GTID payload size ${payloadSize} does not fit the event`,
    );
  }
  const f = new Cursor(c.buf, c.pos, start + payloadSize);
  const ev: MysqlGtidEvent = {
    kind: 'mysql_gtid',
    header,
    anonymous: false,
    tagged: true,
    flags: 0,
    sid: '',
    tag: undefined,
    gno: 0n,
    gtid: '',
    lastCommitted: undefined,
    sequenceNumber: undefined,
    immediateCommitTimestamp: undefined,
    originalCommitTimestamp: undefined,
    transactionLength: undefined,
    immediateServerVersion: undefined,
    originalServerVersion: undefined,
    commitGroupTicket: undefined,
  };
  const sid = Buffer.alloc(16);
  fields: while (f.remaining > 0) {
    const id = readVarlenNumber(f, 'field id');
    switch (id) {
      case 0:
        ev.flags = readVarlenNumber(f, 'flags');
        break;
      case 1:
        for (let i = 0; i < 16; i++) sid[i] = readVarlenNumber(f, 'sid byte') & 0xff;
        break;
      case 2:
        ev.gno = readVarlenInt(f, 'gno');
        break;
      case 3:
        ev.tag = f.str(readVarlenNumber(f, 'tag length'), 'tag');
        break;
      case 4:
        ev.lastCommitted = readVarlenInt(f, 'last_committed');
        break;
      case 5:
        ev.sequenceNumber = readVarlenInt(f, 'sequence_number');
        break;
      case 6:
        ev.immediateCommitTimestamp = readVarlenUint(f, 'immediate_commit_timestamp');
        break;
      case 7:
        ev.originalCommitTimestamp = readVarlenUint(f, 'original_commit_timestamp');
        break;
      case 8:
        ev.transactionLength = readVarlenNumber(f, 'transaction_length');
        break;
      case 9:
        ev.immediateServerVersion = readVarlenNumber(f, 'immediate_server_version');
        break;
      case 10:
        ev.originalServerVersion = readVarlenNumber(f, 'original_server_version');
        break;
      case 11:
        ev.commitGroupTicket = readVarlenUint(f, 'commit_group_ticket');
        break;
      default:
        if (id <= lastNonIgnorable) {
          throw new BinlogDecodeError('UNSUPPORTED', `tagged GTID field ${id} is not ignorable and unknown`);
        }
        break fields;
    }
  }
  if (version < 1) throw new BinlogDecodeError('UNSUPPORTED', `tagged GTID serialization version ${version}`);
  c.pos = start + payloadSize;
  ev.originalCommitTimestamp ??= ev.immediateCommitTimestamp;
  ev.originalServerVersion ??= ev.immediateServerVersion;
  ev.sid = formatUuid(sid);
  ev.gtid = ev.tag ? `${ev.sid}:${ev.tag}:${ev.gno}` : `${ev.sid}:${ev.gno}`;
  return ev;
}

/*
 * MySQL PREVIOUS_GTIDS (35): the GTID set of all earlier files.
 *   word u64: untagged: n_sids (low 56 bits); tagged (8.3+): top byte = format 1, n_sids in bits 8..55
 *   | n_sids × ( uuid 16 | tagged only: tag as varlen length + bytes | n_intervals u64
 *                | n_intervals × (start u64, end u64 exclusive) )
 */
export function decodePreviousGtids(c: Cursor, header: EventHeader): PreviousGtidsEvent {
  const word = c.u64('previous gtids header');
  const tagged = word >> 56n !== 0n;
  const count = Number(tagged ? (word >> 8n) & 0xffffffffffffn : word & 0xffffffffffffffn);
  c.need(count * 24, 'previous gtids entries');
  const sids: TaggedSid[] = [];
  for (let i = 0; i < count; i++) {
    const uuid = formatUuid(c.bytes(16, 'sid'));
    let tag: string | undefined;
    if (tagged) {
      const len = readVarlenNumber(c, 'tag length');
      if (len > 0) tag = c.str(len, 'tag');
    }
    const n = c.u64n('interval count');
    c.need(n * 16, 'intervals');
    const intervals: GtidInterval[] = [];
    for (let j = 0; j < n; j++) intervals.push({ start: c.u64(), end: c.u64() });
    sids.push({ uuid, tag, intervals });
  }
  return { kind: 'previous_gtids', header, tagged, sids, gtidSet: formatGtidSet(sids) };
}

/**
 * A set's MySQL text (what @@gtid_executed and mysqlbinlog show): one entry per uuid, its untagged
 * intervals first, then each tag with its intervals — `uuid:1-5:7:tag:1-3,uuid2:1` (intervals are
 * stored end-exclusive).
 */
export function formatGtidSet(sids: TaggedSid[]): string {
  return formatMysqlGtidSet(normalizeMysqlGtidSet(sids));
}

export function formatUuid(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
