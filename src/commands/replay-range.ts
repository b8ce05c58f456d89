/**
 * The range `cachetail replay --from/--to` selects, and which transactions fall in it. A bound is a GTID,
 * a binlog file:position or a time; the two bounds may be of different kinds and each is optional.
 *
 * Semantics (docs/production.md, "Replaying a range"):
 * - GTID, inclusive at both ends. MariaDB `d-s-n[,d-s-n…]`: per domain, sequence numbers from the
 *   --from one to the --to one (the server id is not compared). MySQL `uuid:n[-m][,…]` (a GTID set):
 *   per uuid (and tag), from the lowest number --from names to the highest --to names. A domain or uuid a
 *   bound does not name is not limited by it, and a transaction without a GTID is never excluded by a
 *   GTID bound: when in doubt, invalidate more.
 * - file:position, half-open like mariadb-binlog's --start-position/--stop-position: a transaction is in
 *   when it starts at or after --from and before --to. A tailer checkpoint (file + next position) is
 *   exactly such a boundary. Files compare by their numeric suffix (`mysql-bin.000010` after `.000009`).
 *   Reading starts at --from (a seek, as mariadb-binlog does), so it must be where an event starts.
 * - time (ISO 8601; UTC when no offset is given), inclusive at both ends, compared with the commit
 *   event's header timestamp at its one-second precision: --from is rounded down to its second.
 */
import { GtidError, parseMariadbGtidState, parseMysqlGtid, parseMysqlGtidSet } from '../binlog/gtid-set.js';
import { CachetailError, errorMessage } from '../errors.js';

export type Bound =
  | { kind: 'gtid'; text: string; streams: ReadonlyMap<string, { low: bigint; high: bigint }> }
  | { kind: 'position'; text: string; file: string; position: number }
  | { kind: 'time'; text: string; ms: number };

export interface ReplayRange {
  from: Bound | undefined;
  to: Bound | undefined;
}

/** What a transaction offers the range test (a TransactionReport has these fields). */
export interface RangeCandidate {
  gtid: string | undefined;
  file: string;
  startPosition: number | undefined;
  commitTimeMs: number;
}

const MARIADB_STATE = /^\d+-\d+-\d+(\s*,\s*\d+-\d+-\d+)*$/;
const UUID_START = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:/i;
const ISO_TIME = /^\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d+)?)?)?(Z|[+-]\d\d:?\d\d)?$/i;
const FILE_POSITION = /^([^:\s]+):(\d+)$/;

function usage(message: string): CachetailError {
  return new CachetailError('USAGE', message);
}

/** A --from/--to value; `option` names it in errors. */
export function parseBound(text: string, option: string): Bound {
  const value = text.trim();
  try {
    if (MARIADB_STATE.test(value)) return { kind: 'gtid', text: value, streams: mariadbStreams(value) };
    if (UUID_START.test(value)) return { kind: 'gtid', text: value, streams: mysqlStreams(value) };
  } catch (err) {
    if (err instanceof GtidError) throw usage(`${option} ${JSON.stringify(text)}: ${errorMessage(err)}`);
    throw err;
  }
  if (ISO_TIME.test(value)) {
    const zoned = /(Z|[+-]\d\d:?\d\d)$/i.test(value) || !value.includes(':') ? value : `${value}Z`;
    const ms = Date.parse(zoned.replace(' ', 'T'));
    if (Number.isNaN(ms)) throw usage(`${option} ${JSON.stringify(text)}: not a valid time`);
    return { kind: 'time', text: value, ms };
  }
  const m = FILE_POSITION.exec(value);
  if (m) return { kind: 'position', text: value, file: m[1], position: Number(m[2]) };
  throw usage(
    `${option} ${JSON.stringify(text)}: expected a GTID (0-1-100, uuid:100), FILE:POSITION or an ISO 8601 time`,
  );
}

function mariadbStreams(text: string): Map<string, { low: bigint; high: bigint }> {
  return new Map(parseMariadbGtidState(text).map((g) => [`${g.domainId}`, { low: g.seqNo, high: g.seqNo }]));
}

/** Per uuid[:tag], the lowest and highest number of the set (intervals are [start, end)). */
function mysqlStreams(text: string): Map<string, { low: bigint; high: bigint }> {
  const streams = new Map<string, { low: bigint; high: bigint }>();
  for (const sid of parseMysqlGtidSet(text)) {
    if (sid.intervals.length === 0) continue;
    const low = sid.intervals[0].start;
    const high = sid.intervals[sid.intervals.length - 1].end - 1n;
    streams.set(sid.tag === undefined ? sid.uuid : `${sid.uuid}:${sid.tag}`, { low, high });
  }
  return streams;
}

/** The stream (MariaDB domain, MySQL uuid[:tag]) and number of a transaction's GTID; undefined: none. */
function gtidParts(gtid: string | undefined): { stream: string; n: bigint } | undefined {
  if (gtid === undefined || gtid === 'ANONYMOUS') return undefined;
  const maria = /^(\d+)-\d+-(\d+)$/.exec(gtid);
  if (maria) return { stream: maria[1], n: BigInt(maria[2]) };
  const g = parseMysqlGtid(gtid);
  return { stream: g.tag === undefined ? g.uuid : `${g.uuid}:${g.tag}`, n: g.gno };
}

/** Binlog file names in server order: same base, numeric suffix compared as a number. */
export function compareFiles(a: string, b: string): number {
  const ma = /^(.*)\.(\d+)$/.exec(a);
  const mb = /^(.*)\.(\d+)$/.exec(b);
  if (ma && mb && ma[1] === mb[1]) return Number(ma[2]) - Number(mb[2]);
  return a < b ? -1 : a > b ? 1 : 0;
}

function comparePosition(t: RangeCandidate, b: { file: string; position: number }): number {
  return compareFiles(t.file, b.file) || (t.startPosition ?? 0) - b.position;
}

function afterFrom(t: RangeCandidate, b: Bound): boolean {
  switch (b.kind) {
    case 'gtid': {
      const g = gtidParts(t.gtid);
      const limit = g && b.streams.get(g.stream);
      return !g || !limit || g.n >= limit.low;
    }
    case 'position':
      return comparePosition(t, b) >= 0;
    case 'time':
      return t.commitTimeMs >= Math.floor(b.ms / 1000) * 1000;
  }
}

function beforeTo(t: RangeCandidate, b: Bound): boolean {
  switch (b.kind) {
    case 'gtid': {
      const g = gtidParts(t.gtid);
      const limit = g && b.streams.get(g.stream);
      return !g || !limit || g.n <= limit.high;
    }
    case 'position':
      return comparePosition(t, b) < 0;
    case 'time':
      return t.commitTimeMs <= b.ms;
  }
}

export function inRange(range: ReplayRange, t: RangeCandidate): boolean {
  return (
    (range.from === undefined || afterFrom(t, range.from)) &&
    (range.to === undefined || beforeTo(t, range.to))
  );
}

/**
 * True once nothing after `t` can be in the range: only a position --to says so (commit order is file
 * order); GTIDs of other domains and header times are not ordered, so those ranges read to the end.
 */
export function pastTo(range: ReplayRange, t: { file: string; position: number }): boolean {
  const to = range.to;
  return to?.kind === 'position' && (compareFiles(t.file, to.file) || t.position - to.position) >= 0;
}
