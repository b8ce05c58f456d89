/*
 * MySQL GTID sets (the text of @@gtid_executed, PREVIOUS_GTIDS, a checkpoint):
 *
 *   set      := '' | sid_set (',' sid_set)*
 *   sid_set  := uuid (':' (tag | interval))*       a tag applies to the intervals after it (8.3+)
 *   interval := gno | gno '-' gno                  1 <= gno <= 2^63-1, start <= end
 *   tag      := [a-z_][a-z0-9_]{0,31}              case-insensitive, kept lower-case (as MySQL does)
 *
 * Whitespace (including the newline MySQL prints after each ',') is allowed around every token. A UUID
 * may repeat and intervals may overlap or touch: the set is the union. A uuid without intervals adds
 * nothing (MySQL accepts it too).
 *
 * The normal form every function here returns, and expects: entries sorted by uuid then tag (untagged
 * first), no entry without intervals, intervals sorted, end-exclusive (as in PREVIOUS_GTIDS), and
 * neither overlapping nor touching. It formats like MySQL, the tags of one uuid grouped after its
 * untagged intervals: `uuid:1-5:7:tag:1-3,uuid2:1`. Values are frozen; "changing" returns a new set.
 */
import type { GtidInterval } from '../events/types.js';
import { GtidError } from './error.js';

export interface MysqlGtid {
  /** Lower-case, with dashes. */
  readonly uuid: string;
  /** Lower-case; undefined for an untagged GTID. */
  readonly tag: string | undefined;
  readonly gno: bigint;
}

export interface MysqlSidIntervals {
  readonly uuid: string;
  readonly tag: string | undefined;
  /** [start, end) pairs. */
  readonly intervals: readonly GtidInterval[];
}

export type MysqlGtidSet = readonly MysqlSidIntervals[];

/** Largest GNO MySQL assigns (GNO_END - 1 = INT64_MAX). */
export const MAX_GNO = (1n << 63n) - 1n;

export const EMPTY_MYSQL_GTID_SET: MysqlGtidSet = Object.freeze([]);

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HEX32_RE = /^[0-9a-f]{32}$/;
const TAG_RE = /^[a-z_][a-z0-9_]{0,31}$/;
const INTERVAL_RE = /^(\d+)(?:\s*-\s*(\d+))?$/;

export function parseMysqlGtidSet(text: string): MysqlGtidSet {
  if (text.trim() === '') return EMPTY_MYSQL_GTID_SET;
  const raw: MysqlSidIntervals[] = [];
  for (const part of text.split(',')) {
    const fields = part.split(':').map((f) => f.trim());
    const uuid = parseUuid(fields[0], text);
    let tag: string | undefined;
    let current: GtidInterval[] = [];
    raw.push({ uuid, tag, intervals: current });
    for (let i = 1; i < fields.length; i++) {
      const field = fields[i];
      const m = INTERVAL_RE.exec(field);
      if (m) {
        const start = parseGno(m[1], text);
        const last = m[2] === undefined ? start : parseGno(m[2], text);
        if (last < start) throw new GtidError('GTID_PARSE', `interval ${field} ends before it starts`, text);
        current.push({ start, end: last + 1n });
      } else {
        tag = parseTag(field, text);
        current = [];
        raw.push({ uuid, tag, intervals: current });
      }
    }
  }
  return normalizeMysqlGtidSet(raw);
}

/** `uuid:gno` or `uuid:tag:gno`. */
export function parseMysqlGtid(text: string): MysqlGtid {
  const fields = text.split(':').map((f) => f.trim());
  if (fields.length !== 2 && fields.length !== 3) {
    throw new GtidError('GTID_PARSE', 'a MySQL GTID is uuid:number or uuid:tag:number', text);
  }
  const uuid = parseUuid(fields[0], text);
  const tag = fields.length === 3 ? parseTag(fields[1], text) : undefined;
  const gno = fields[fields.length - 1];
  if (!/^\d+$/.test(gno))
    throw new GtidError('GTID_PARSE', `transaction number ${JSON.stringify(gno)}`, text);
  return Object.freeze({ uuid, tag, gno: parseGno(gno, text) });
}

export function formatMysqlGtid(g: MysqlGtid): string {
  return g.tag === undefined ? `${g.uuid}:${g.gno}` : `${g.uuid}:${g.tag}:${g.gno}`;
}

export function formatMysqlGtidSet(set: MysqlGtidSet): string {
  let out = '';
  let prevUuid: string | undefined;
  for (const e of set) {
    if (e.uuid !== prevUuid) {
      if (prevUuid !== undefined) out += ',';
      out += e.uuid;
      prevUuid = e.uuid;
    }
    if (e.tag !== undefined) out += `:${e.tag}`;
    for (const r of e.intervals) {
      out += r.end - r.start === 1n ? `:${r.start}` : `:${r.start}-${r.end - 1n}`;
    }
  }
  return out;
}

/**
 * The normal form of any list of (uuid, tag, intervals), e.g. a PREVIOUS_GTIDS event's `sids`. UUIDs
 * and tags must already be lower-case (as the decoder and the parser produce them).
 */
export function normalizeMysqlGtidSet(entries: readonly MysqlSidIntervals[]): MysqlGtidSet {
  const byKey = new Map<string, { uuid: string; tag: string | undefined; intervals: GtidInterval[] }>();
  for (const e of entries) {
    const key = sidKey(e.uuid, e.tag);
    let acc = byKey.get(key);
    if (!acc) byKey.set(key, (acc = { uuid: e.uuid, tag: e.tag, intervals: [] }));
    for (const r of e.intervals) if (r.end > r.start) acc.intervals.push(r);
  }
  const keys = [...byKey.keys()].sort(compareStrings);
  const out: MysqlSidIntervals[] = [];
  for (const key of keys) {
    const e = byKey.get(key)!;
    if (e.intervals.length === 0) continue;
    out.push(Object.freeze({ uuid: e.uuid, tag: e.tag, intervals: mergeIntervals(e.intervals) }));
  }
  return Object.freeze(out);
}

export function mysqlGtidSetContains(set: MysqlGtidSet, gtid: MysqlGtid): boolean {
  const e = findEntry(set, gtid.uuid, gtid.tag);
  if (!e) return false;
  // Binary search: a long-lived server can have many holes in its history.
  const rs = e.intervals;
  let lo = 0;
  let hi = rs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const r = rs[mid];
    if (gtid.gno < r.start) hi = mid - 1;
    else if (gtid.gno >= r.end) lo = mid + 1;
    else return true;
  }
  return false;
}

/** Every GTID of `a` is in `b`. */
export function mysqlGtidSetIsSubset(a: MysqlGtidSet, b: MysqlGtidSet): boolean {
  for (const ea of a) {
    const eb = findEntry(b, ea.uuid, ea.tag);
    if (!eb) return false;
    // Both lists are sorted and merged, so each interval of a must sit inside a single interval of b.
    let j = 0;
    for (const r of ea.intervals) {
      while (j < eb.intervals.length && eb.intervals[j].end < r.end) j++;
      const cover = eb.intervals[j];
      if (!cover || cover.start > r.start) return false;
    }
  }
  return true;
}

export function mysqlGtidSetEquals(a: MysqlGtidSet, b: MysqlGtidSet): boolean {
  return mysqlGtidSetIsSubset(a, b) && mysqlGtidSetIsSubset(b, a);
}

export function mysqlGtidSetUnion(a: MysqlGtidSet, b: MysqlGtidSet): MysqlGtidSet {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  return normalizeMysqlGtidSet([...a, ...b]);
}

export function mysqlGtidSetAdd(set: MysqlGtidSet, gtid: MysqlGtid): MysqlGtidSet {
  if (gtid.gno < 1n || gtid.gno > MAX_GNO) {
    throw new GtidError('GTID_PARSE', `transaction number ${gtid.gno} out of range`, formatMysqlGtid(gtid));
  }
  // The tailer adds one GTID per transaction, almost always right after the end of its uuid's last
  // interval: extend that interval without re-normalising the whole set.
  const i = set.findIndex((e) => e.uuid === gtid.uuid && e.tag === gtid.tag);
  if (i >= 0) {
    const e = set[i];
    const last = e.intervals[e.intervals.length - 1];
    if (gtid.gno === last.end) {
      const intervals = Object.freeze([
        ...e.intervals.slice(0, -1),
        Object.freeze({ start: last.start, end: last.end + 1n }),
      ]);
      const out = [...set];
      out[i] = Object.freeze({ uuid: e.uuid, tag: e.tag, intervals });
      return Object.freeze(out);
    }
    if (gtid.gno >= last.start && gtid.gno < last.end) return set;
  }
  return normalizeMysqlGtidSet([
    ...set,
    { uuid: gtid.uuid, tag: gtid.tag, intervals: [{ start: gtid.gno, end: gtid.gno + 1n }] },
  ]);
}

function findEntry(set: MysqlGtidSet, uuid: string, tag: string | undefined): MysqlSidIntervals | undefined {
  for (const e of set) if (e.uuid === uuid && e.tag === tag) return e;
  return undefined;
}

function mergeIntervals(rs: GtidInterval[]): readonly GtidInterval[] {
  rs.sort((x, y) => (x.start < y.start ? -1 : x.start > y.start ? 1 : 0));
  const out: GtidInterval[] = [];
  let cur = { start: rs[0].start, end: rs[0].end };
  for (let k = 1; k < rs.length; k++) {
    const r = rs[k];
    if (r.start <= cur.end) {
      if (r.end > cur.end) cur.end = r.end;
    } else {
      out.push(Object.freeze(cur));
      cur = { start: r.start, end: r.end };
    }
  }
  out.push(Object.freeze(cur));
  return Object.freeze(out);
}

/** Sorts untagged before tagged ('\0' < any tag character), then tags in byte order. */
function sidKey(uuid: string, tag: string | undefined): string {
  return tag === undefined ? uuid : `${uuid}\0${tag}`;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function parseUuid(field: string, text: string): string {
  const s = field.toLowerCase();
  if (UUID_RE.test(s)) return s;
  if (HEX32_RE.test(s)) {
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  }
  throw new GtidError('GTID_PARSE', `${JSON.stringify(field)} is not a UUID`, text);
}

function parseTag(field: string, text: string): string {
  const s = field.toLowerCase();
  if (!TAG_RE.test(s)) {
    throw new GtidError(
      'GTID_PARSE',
      `${JSON.stringify(field)} is neither an interval nor a tag (letter or _, then up to 31 letters, digits or _)`,
      text,
    );
  }
  return s;
}

function parseGno(digits: string, text: string): bigint {
  const v = BigInt(digits);
  if (v < 1n || v > MAX_GNO) {
    throw new GtidError('GTID_PARSE', `transaction number ${digits} is outside 1..${MAX_GNO}`, text);
  }
  return v;
}
