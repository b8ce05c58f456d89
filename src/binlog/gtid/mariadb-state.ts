/*
 * MariaDB GTID positions (the text of @@gtid_slave_pos / @@gtid_binlog_pos / @slave_connect_state):
 *
 *   state := '' | gtid (',' gtid)*        at most one gtid per domain: the last one applied there
 *   gtid  := domain '-' server '-' seq    domain, server: 0..2^32-1; seq: 0..2^64-1 (decimal)
 *
 * Whitespace is allowed around every token. Two entries for one domain are an error, as in the server
 * (ER_DUPLICATE_GTID_DOMAIN): a position is one point per domain, not a set.
 *
 * Ordering follows the server: within a domain, sequence numbers are increasing whatever server wrote
 * them, so "has reached d-s-n" means the state's entry for d has seq >= n, server id ignored. Domains
 * are independent: two states are ordered only if every domain agrees. The normal form is sorted by
 * domain; values are frozen.
 */
import type { MariadbGtid } from '../events/types.js';
import { GtidError } from './error.js';

export type MariadbGtidState = readonly Readonly<MariadbGtid>[];

/** Partial order of two positions. */
export type GtidOrder = 'equal' | 'before' | 'after' | 'diverged';

export const EMPTY_MARIADB_GTID_STATE: MariadbGtidState = Object.freeze([]);

const U32_MAX = 0xffffffffn;
const U64_MAX = (1n << 64n) - 1n;
const GTID_RE = /^(\d+)\s*-\s*(\d+)\s*-\s*(\d+)$/;

export function parseMariadbGtid(text: string): Readonly<MariadbGtid> {
  const m = GTID_RE.exec(text.trim());
  if (!m) throw new GtidError('GTID_PARSE', 'a MariaDB GTID is domain-server-sequence', text);
  const domainId = BigInt(m[1]);
  const serverId = BigInt(m[2]);
  const seqNo = BigInt(m[3]);
  if (domainId > U32_MAX) throw new GtidError('GTID_PARSE', `domain id ${domainId} exceeds 2^32-1`, text);
  if (serverId > U32_MAX) throw new GtidError('GTID_PARSE', `server id ${serverId} exceeds 2^32-1`, text);
  if (seqNo > U64_MAX) throw new GtidError('GTID_PARSE', `sequence number ${seqNo} exceeds 2^64-1`, text);
  return Object.freeze({ domainId: Number(domainId), serverId: Number(serverId), seqNo });
}

export function formatMariadbGtid(g: MariadbGtid): string {
  return `${g.domainId}-${g.serverId}-${g.seqNo}`;
}

export function parseMariadbGtidState(text: string): MariadbGtidState {
  if (text.trim() === '') return EMPTY_MARIADB_GTID_STATE;
  const out: Readonly<MariadbGtid>[] = [];
  const seen = new Set<number>();
  for (const part of text.split(',')) {
    let g: Readonly<MariadbGtid>;
    try {
      g = parseMariadbGtid(part);
    } catch (err) {
      // Re-throw with the whole text, so the operator sees which state held the bad entry.
      if (err instanceof GtidError) throw new GtidError('GTID_PARSE', `entry ${JSON.stringify(part)}`, text);
      throw err;
    }
    if (seen.has(g.domainId)) {
      throw new GtidError('GTID_PARSE', `domain ${g.domainId} appears twice (one GTID per domain)`, text);
    }
    seen.add(g.domainId);
    out.push(g);
  }
  return freezeSorted(out);
}

/** A state from a list that may hold several GTIDs per domain (e.g. GTID_LIST): the highest per domain. */
export function mariadbGtidStateFrom(gtids: readonly MariadbGtid[]): MariadbGtidState {
  let state = EMPTY_MARIADB_GTID_STATE;
  for (const g of gtids) state = mariadbStateUnion(state, [g]);
  return state;
}

export function formatMariadbGtidState(state: MariadbGtidState): string {
  return state.map(formatMariadbGtid).join(',');
}

/** The state after applying `gtid`: its domain's entry is replaced (the server's gtid_slave_pos update). */
export function mariadbStateAdd(state: MariadbGtidState, gtid: MariadbGtid): MariadbGtidState {
  const entry = Object.freeze({ domainId: gtid.domainId, serverId: gtid.serverId, seqNo: gtid.seqNo });
  const i = state.findIndex((g) => g.domainId === gtid.domainId);
  if (i >= 0) {
    const out = [...state];
    out[i] = entry;
    return Object.freeze(out);
  }
  return freezeSorted([...state, entry]);
}

export function mariadbStateSeq(state: MariadbGtidState, domainId: number): bigint | undefined {
  for (const g of state) if (g.domainId === domainId) return g.seqNo;
  return undefined;
}

/** The state's domain of `gtid` is at or past its sequence number (server id ignored). */
export function mariadbStateHasReached(state: MariadbGtidState, gtid: MariadbGtid): boolean {
  const seq = mariadbStateSeq(state, gtid.domainId);
  return seq !== undefined && seq >= gtid.seqNo;
}

/** Every domain of `other` is reached by `state`. */
export function mariadbStateCovers(state: MariadbGtidState, other: MariadbGtidState): boolean {
  return other.every((g) => mariadbStateHasReached(state, g));
}

/** Per domain, the entry with the higher sequence number (on a tie, `a`'s). */
export function mariadbStateUnion(a: MariadbGtidState, b: MariadbGtidState): MariadbGtidState {
  if (b.length === 0) return a;
  const out = new Map<number, Readonly<MariadbGtid>>();
  for (const g of a) out.set(g.domainId, g);
  for (const g of b) {
    const cur = out.get(g.domainId);
    if (cur === undefined || g.seqNo > cur.seqNo) out.set(g.domainId, Object.freeze({ ...g }));
  }
  return freezeSorted([...out.values()]);
}

/** `before`: `a` is behind `b` in some domain and ahead in none; `diverged`: behind in one, ahead in another. */
export function compareMariadbStates(a: MariadbGtidState, b: MariadbGtidState): GtidOrder {
  const aCoversB = mariadbStateCovers(a, b);
  const bCoversA = mariadbStateCovers(b, a);
  if (aCoversB && bCoversA) return 'equal';
  if (aCoversB) return 'after';
  if (bCoversA) return 'before';
  return 'diverged';
}

function freezeSorted(gtids: Readonly<MariadbGtid>[]): MariadbGtidState {
  gtids.sort((x, y) => x.domainId - y.domainId);
  return Object.freeze(gtids);
}
