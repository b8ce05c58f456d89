/**
 * Whether the replica's binlog still joins on to a GTID resume point, checked before every resume by
 * GTID (a checkpoint, a reconnect). The server alone does not say so: after RESET MASTER / RESET BINARY
 * LOGS AND GTIDS without the GTID state restored, or on another replica whose binlog began later, it
 * streams from the first transaction it has after the resume point and the ones in between are skipped
 * without an error. GTID numbers of one source (a MySQL server_uuid, a MariaDB domain) are assigned one
 * after the other, so a replica whose first transaction after the resume point is not the next number
 * has lost the ones in between: a gap. A replica that has not yet got to the resume point (behind, or
 * reset with nothing written since) is waited for: whether anything was lost shows with its next write.
 * A binlog purged past the resume point is left to the server, whose error 1236 names it exactly.
 */
import type { RowDataPacket } from 'mysql2/promise';
import {
  GtidState,
  type MariadbGtidState,
  type MysqlGtidSet,
  type MysqlSidIntervals,
} from '../binlog/index.js';
import { CachetailError } from '../errors.js';
import type { ReplicationConnection } from '../replication/client.js';
import { quote } from '../replication/preflight-sql.js';

/** How a GTID resume point joins the replica's history, per source (MySQL uuid[:tag], MariaDB domain). */
export type HistoryVerdict =
  | { kind: 'joins' }
  /** The replica has later transactions of `source` but none of `first`…`last`, which follow the resume point. */
  | { kind: 'hole'; source: string; resumedAt: bigint; first: bigint; last: bigint; found: bigint }
  /** The replica has not got to the resume point in `source` yet (`has`: its last one there, 0 for none). */
  | { kind: 'behind'; source: string; resumedAt: bigint; has: bigint };

/**
 * MySQL: `resume` is the tailer's complete GTID set, `executed` the replica's @@gtid_executed. Per
 * source of the resume set: the first transaction the replica would send (in `executed`, not in
 * `resume`) must be at most one past the last one read.
 */
export function mysqlHistoryVerdict(resume: MysqlGtidSet, executed: MysqlGtidSet): HistoryVerdict {
  for (const read of resume) {
    const has = executed.find((e) => e.uuid === read.uuid && e.tag === read.tag);
    const source = read.tag === undefined ? read.uuid : `${read.uuid}:${read.tag}`;
    const resumedAt = lastGno(read);
    const next = has ? firstNotIn(has, read) : undefined;
    if (next === undefined) {
      if (has && covers(has, read)) continue;
      return { kind: 'behind', source, resumedAt, has: has ? lastGno(has) : 0n };
    }
    if (next > resumedAt + 1n) {
      return { kind: 'hole', source, resumedAt, first: resumedAt + 1n, last: next - 1n, found: next };
    }
  }
  return { kind: 'joins' };
}

/**
 * MariaDB: `resume` is the tailer's GTID position, `binlogPos` the replica's @@gtid_binlog_pos, and
 * `firstInBinlog(domain)` the first GTID of the domain in the replica's binlog when its oldest file
 * has no earlier state for it (after RESET MASTER), or null when the oldest file's state has one.
 */
export async function mariadbHistoryVerdict(
  resume: MariadbGtidState,
  binlogPos: MariadbGtidState,
  firstInBinlog: (domain: number) => Promise<bigint | null>,
): Promise<HistoryVerdict> {
  for (const read of resume) {
    const source = `domain ${read.domainId}`;
    const has = binlogPos.find((g) => g.domainId === read.domainId)?.seqNo ?? 0n;
    if (has < read.seqNo) return { kind: 'behind', source, resumedAt: read.seqNo, has };
    if (has === read.seqNo) continue;
    const first = await firstInBinlog(read.domainId);
    if (first !== null && first > read.seqNo + 1n) {
      return {
        kind: 'hole',
        source,
        resumedAt: read.seqNo,
        first: read.seqNo + 1n,
        last: first - 1n,
        found: first,
      };
    }
  }
  return { kind: 'joins' };
}

/** Throws a gap (BINLOG_UNAVAILABLE) or a retryable wait unless the replica's history joins on to `gtid`. */
export async function checkGtidHistory(conn: ReplicationConnection, gtid: string): Promise<void> {
  const verdict = conn.flavor === 'mysql' ? await mysqlVerdict(conn, gtid) : await mariadbVerdict(conn, gtid);
  if (verdict.kind === 'hole') {
    throw new CachetailError(
      'BINLOG_UNAVAILABLE',
      `the replica's history does not join on to the resume point: in ${verdict.source} the tailer read up ` +
        `to ${verdict.resumedAt} and the replica's next transaction there is ${verdict.found}, so ` +
        `${range(verdict.first, verdict.last)} are in no binlog it has (a RESET MASTER / RESET BINARY LOGS ` +
        `AND GTIDS without the GTID state restored, or a replica whose binlog began later): a gap`,
    );
  }
  if (verdict.kind === 'behind') {
    throw new CachetailError(
      'REPLICA_BEHIND',
      `the replica has not got to the resume point: in ${verdict.source} the tailer read up to ` +
        `${verdict.resumedAt}, the replica's binlog ${verdict.has === 0n ? 'has none' : `ends at ${verdict.has}`}; ` +
        `waiting for it (a lagging replica, or a binlog reset with nothing written since)`,
    );
  }
}

async function mysqlVerdict(conn: ReplicationConnection, gtid: string): Promise<HistoryVerdict> {
  const [row] = await conn.query<RowDataPacket[]>('SELECT @@global.gtid_executed AS g');
  const executed = GtidState.parse(String(row?.g ?? '').replace(/\s+/g, ''), 'mysql');
  return mysqlHistoryVerdict(GtidState.parse(gtid, 'mysql').mysqlSet ?? [], executed.mysqlSet ?? []);
}

async function mariadbVerdict(conn: ReplicationConnection, gtid: string): Promise<HistoryVerdict> {
  const [row] = await conn.query<RowDataPacket[]>('SELECT @@global.gtid_binlog_pos AS g');
  const binlogPos = GtidState.parse(String(row?.g ?? ''), 'mariadb');
  return mariadbHistoryVerdict(
    GtidState.parse(gtid, 'mariadb').mariadbState ?? [],
    binlogPos.mariadbState ?? [],
    (domain) => firstOfDomainWithoutEarlierState(conn, domain),
  );
}

const GTID_INFO = /GTID (\d+)-(\d+)-(\d+)/;
const SCAN_PAGE = 500;

/**
 * The first GTID of `domain` in the replica's binlog, or null when the oldest file's Gtid_list already
 * has the domain (the binlog continues an earlier state; a purge past the resume point is the
 * server's 1236). Scans the files in order, a page of events at a time, until one of the domain.
 */
async function firstOfDomainWithoutEarlierState(
  conn: ReplicationConnection,
  domain: number,
): Promise<bigint | null> {
  const files = (await conn.query<RowDataPacket[]>('SHOW BINARY LOGS')).map((r) => String(r.Log_name));
  for (const [i, file] of files.entries()) {
    for (let offset = 0; ; offset += SCAN_PAGE) {
      const events = await conn.query<RowDataPacket[]>(
        `SHOW BINLOG EVENTS IN ${quote(file)} LIMIT ${offset}, ${SCAN_PAGE}`,
      );
      for (const ev of events) {
        const type = String(ev.Event_type);
        if (i === 0 && type === 'Gtid_list' && listHasDomain(String(ev.Info), domain)) return null;
        const m = type === 'Gtid' ? GTID_INFO.exec(String(ev.Info)) : null;
        if (m && Number(m[1]) === domain) return BigInt(m[3]);
      }
      if (events.length < SCAN_PAGE) break;
    }
  }
  return null;
}

/** A Gtid_list event's Info, e.g. `[0-1-5,1-2-3]`, names `domain`. */
function listHasDomain(info: string, domain: number): boolean {
  return [...info.matchAll(/(\d+)-\d+-\d+/g)].some((m) => Number(m[1]) === domain);
}

function lastGno(e: MysqlSidIntervals): bigint {
  return (e.intervals[e.intervals.length - 1]?.end ?? 1n) - 1n;
}

/** The smallest GNO of `a` not in `b` (both one source's sorted, merged intervals). */
function firstNotIn(a: MysqlSidIntervals, b: MysqlSidIntervals): bigint | undefined {
  for (const r of a.intervals) {
    let g = r.start;
    for (const c of b.intervals) {
      if (c.end <= g) continue;
      if (c.start > g) break;
      g = c.end;
    }
    if (g < r.end) return g;
  }
  return undefined;
}

function covers(has: MysqlSidIntervals, read: MysqlSidIntervals): boolean {
  return firstNotIn(read, has) === undefined;
}

function range(first: bigint, last: bigint): string {
  return first === last ? `transaction ${first}` : `transactions ${first}-${last}`;
}
