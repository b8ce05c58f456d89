import type { Cursor } from '../cursor.js';
import type { EventHeader, MariadbGtid, MariadbGtidEvent, MariadbGtidListEvent } from './types.js';

const FL_STANDALONE = 0x01;
const FL_GROUP_COMMIT_ID = 0x02;
const FL_PREPARED_XA = 0x40;
const FL_COMPLETED_XA = 0x80;
const FL_EXTRA_MULTI_ENGINE = 0x01;
const FL_COMMIT_ALTER = 0x04;
const FL_ROLLBACK_ALTER = 0x08;
const FL_EXTRA_THREAD_ID = 0x10;

/*
 * MariaDB GTID (162):
 *   seq_no u64 | domain_id u32 | flags2 u8 | commit_id u64 if flags2 & GROUP_COMMIT_ID(2), else 6 zero bytes
 *   | if flags2 & (PREPARED_XA 0x40 | COMPLETED_XA 0x80): format_id u32, gtrid_len u8, bqual_len u8, data
 *   | optional (when bytes remain): flags_extra u8, extra_engines u8 if flags_extra & 1,
 *     start-alter seq_no u64 if flags_extra & (COMMIT_ALTER 4 | ROLLBACK_ALTER 8), thread_id u32 if & 0x10
 * The server id of the GTID is the common header's server_id.
 */
export function decodeMariadbGtid(c: Cursor, header: EventHeader): MariadbGtidEvent {
  const seqNo = c.u64('seq_no');
  const domainId = c.u32('domain_id');
  const flags2 = c.u8('flags2');
  let commitId: bigint | undefined;
  if ((flags2 & FL_GROUP_COMMIT_ID) !== 0) commitId = c.u64('commit_id');
  else c.skip(Math.min(6, c.remaining), 'gtid padding');
  let xid: MariadbGtidEvent['xid'];
  if ((flags2 & (FL_PREPARED_XA | FL_COMPLETED_XA)) !== 0) {
    const formatId = c.u32('xa format_id');
    const gtridLen = c.u8('xa gtrid_len');
    const bqualLen = c.u8('xa bqual_len');
    xid = { formatId, gtrid: c.bytes(gtridLen, 'xa gtrid'), bqual: c.bytes(bqualLen, 'xa bqual') };
  }
  let flagsExtra = 0;
  if (c.remaining > 0) {
    flagsExtra = c.u8('flags_extra');
    if ((flagsExtra & FL_EXTRA_MULTI_ENGINE) !== 0) c.skip(1, 'extra_engines');
    if ((flagsExtra & (FL_COMMIT_ALTER | FL_ROLLBACK_ALTER)) !== 0) c.skip(8, 'start alter seq_no');
    if ((flagsExtra & FL_EXTRA_THREAD_ID) !== 0) c.skip(4, 'thread_id');
  }
  return {
    kind: 'mariadb_gtid',
    header,
    domainId,
    serverId: header.serverId,
    seqNo,
    gtid: `${domainId}-${header.serverId}-${seqNo}`,
    flags2,
    commitId,
    standalone: (flags2 & FL_STANDALONE) !== 0,
    xid,
    flagsExtra,
  };
}

/*
 * MariaDB GTID_LIST (163):
 *   count_and_flags u32 (low 28 bits count, top 4 bits flags) | count × (domain_id u32, server_id u32, seq_no u64)
 */
export function decodeMariadbGtidList(c: Cursor, header: EventHeader): MariadbGtidListEvent {
  const word = c.u32('gtid list count');
  const count = word & 0x0fffffff;
  c.need(count * 16, 'gtid list entries');
  const gtids: MariadbGtid[] = [];
  for (let i = 0; i < count; i++) {
    gtids.push({ domainId: c.u32(), serverId: c.u32(), seqNo: c.u64() });
  }
  return { kind: 'mariadb_gtid_list', header, flags: word >>> 28, gtids };
}
