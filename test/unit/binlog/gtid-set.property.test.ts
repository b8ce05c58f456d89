/**
 * Property tests of the GTID sets against brute-force models (a set of strings for MySQL, a map for
 * MariaDB), with a seeded PRNG so a failure names a reproducible seed. GNOs are drawn from a small
 * window near 1 and one near 2^63-1, so both ends of the range and many merges are exercised.
 */
import { describe, expect, it } from 'vitest';
import {
  GtidState,
  MAX_GNO,
  compareMariadbStates,
  formatMariadbGtidState,
  formatMysqlGtidSet,
  mariadbStateAdd,
  mariadbStateHasReached,
  mariadbStateUnion,
  mysqlGtidSetAdd,
  mysqlGtidSetContains,
  mysqlGtidSetIsSubset,
  mysqlGtidSetUnion,
  parseMariadbGtidState,
  parseMysqlGtidSet,
  type MariadbGtidState,
  type MysqlGtid,
  type MysqlGtidSet,
} from '../../../src/binlog/index.js';

/** mulberry32: tiny, fast and good enough for test input. */
class Rng {
  constructor(private s: number) {}
  next(): number {
    this.s = (this.s + 0x6d2b79f5) | 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
}

const UUIDS = ['3e11fa47-71ca-11e1-9e33-c80aa9429562', '00000000-0000-0000-0000-000000000001'];
const TAGS = [undefined, 'a', 'zz'];
const WINDOW = 24;
const BASES = [1n, MAX_GNO - BigInt(WINDOW) + 1n];

/** Every GTID the generator can produce, for exhaustive membership checks. */
const UNIVERSE: MysqlGtid[] = UUIDS.flatMap((uuid) =>
  TAGS.flatMap((tag) =>
    BASES.flatMap((base) => Array.from({ length: WINDOW }, (_, i) => ({ uuid, tag, gno: base + BigInt(i) }))),
  ),
);
const key = (g: MysqlGtid): string => `${g.uuid}:${g.tag ?? ''}:${g.gno}`;

/** Random text (overlapping, unsorted, repeated UUIDs, mixed case) and the GTIDs it denotes. */
function randomSetText(rng: Rng): { text: string; members: Set<string> } {
  const members = new Set<string>();
  const parts: string[] = [];
  for (let p = rng.int(4); p > 0; p--) {
    const uuid = rng.pick(UUIDS);
    let part = rng.int(2) ? uuid : uuid.toUpperCase();
    let tag: string | undefined;
    for (let k = rng.int(5); k > 0; k--) {
      // The text cannot go back to untagged within one uuid, so only switch to a tag.
      const next = rng.int(4) === 0 ? rng.pick(TAGS) : undefined;
      if (next !== undefined) {
        tag = next;
        part += `:${rng.int(2) ? tag : tag.toUpperCase()}`;
      }
      const base = rng.pick(BASES);
      const a = rng.int(WINDOW);
      const b = a + rng.int(Math.min(6, WINDOW - a));
      part += b === a && rng.int(2) ? `:${base + BigInt(a)}` : `:${base + BigInt(a)}-${base + BigInt(b)}`;
      for (let i = a; i <= b; i++) members.add(key({ uuid, tag, gno: base + BigInt(i) }));
    }
    parts.push(part);
  }
  return { text: parts.join(rng.int(2) ? ',' : ',\n'), members };
}

function membersOf(set: MysqlGtidSet): Set<string> {
  return new Set(UNIVERSE.filter((g) => mysqlGtidSetContains(set, g)).map(key));
}

function isNormal(set: MysqlGtidSet): boolean {
  for (let i = 0; i < set.length; i++) {
    const e = set[i];
    if (e.intervals.length === 0) return false;
    for (let j = 0; j < e.intervals.length; j++) {
      const r = e.intervals[j];
      if (r.start >= r.end || (j > 0 && e.intervals[j - 1].end >= r.start)) return false;
    }
    const prev = set[i - 1];
    if (prev && `${prev.uuid}\0${prev.tag ?? ''}` >= `${e.uuid}\0${e.tag ?? ''}`) return false;
  }
  return true;
}

describe('MySQL GTID sets: properties (seeded)', () => {
  for (const seed of [1, 2, 3, 0xc0ffee]) {
    it(`seed ${seed}: parse/format round trip, contains, union, subset, add agree with a model`, () => {
      const rng = new Rng(seed);
      for (let round = 0; round < 300; round++) {
        const x = randomSetText(rng);
        const y = randomSetText(rng);
        const a = parseMysqlGtidSet(x.text);
        const b = parseMysqlGtidSet(y.text);
        expect(isNormal(a), x.text).toBe(true);
        expect(membersOf(a), x.text).toEqual(x.members);
        // The normal form is a fixed point of parse ∘ format.
        expect(formatMysqlGtidSet(parseMysqlGtidSet(formatMysqlGtidSet(a)))).toBe(formatMysqlGtidSet(a));
        expect(parseMysqlGtidSet(formatMysqlGtidSet(a))).toEqual(a);

        const u = mysqlGtidSetUnion(a, b);
        expect(isNormal(u)).toBe(true);
        expect(membersOf(u)).toEqual(new Set([...x.members, ...y.members]));
        expect(formatMysqlGtidSet(mysqlGtidSetUnion(b, a))).toBe(formatMysqlGtidSet(u));

        const subset = [...x.members].every((m) => y.members.has(m));
        expect(mysqlGtidSetIsSubset(a, b), `${x.text} ⊆ ${y.text}`).toBe(subset);
        expect(mysqlGtidSetIsSubset(a, u) && mysqlGtidSetIsSubset(b, u)).toBe(true);

        let added = a;
        const extra = new Set(x.members);
        for (let k = rng.int(6); k > 0; k--) {
          const g = rng.pick(UNIVERSE);
          added = mysqlGtidSetAdd(added, g);
          extra.add(key(g));
          expect(isNormal(added)).toBe(true);
        }
        expect(membersOf(added)).toEqual(extra);
      }
    });
  }

  it('adding GNOs one by one in a random order ends in one interval', () => {
    const rng = new Rng(7);
    const gnos = Array.from({ length: 200 }, (_, i) => BigInt(i + 1));
    for (let i = gnos.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [gnos[i], gnos[j]] = [gnos[j], gnos[i]];
    }
    let s = GtidState.empty('mysql');
    for (const gno of gnos) s = s.add({ uuid: UUIDS[0], tag: undefined, gno });
    expect(s.toString()).toBe(`${UUIDS[0]}:1-200`);
  });
});

describe('MariaDB GTID positions: properties (seeded)', () => {
  function randomState(rng: Rng): { state: MariadbGtidState; model: Map<number, bigint> } {
    const model = new Map<number, bigint>();
    const parts: string[] = [];
    for (const domain of [0, 1, 2, 4294967295]) {
      if (rng.int(2) === 0) continue;
      const seq = rng.int(2) ? BigInt(rng.int(10)) : (1n << 64n) - 1n - BigInt(rng.int(3));
      model.set(domain, seq);
      parts.push(`${domain}-${rng.int(3) + 1}-${seq}`);
    }
    for (let i = parts.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [parts[i], parts[j]] = [parts[j], parts[i]];
    }
    return { state: parseMariadbGtidState(parts.join(',')), model };
  }

  it('union = per-domain max, compare agrees with the model, add/hasReached, round trip', () => {
    const rng = new Rng(42);
    for (let round = 0; round < 500; round++) {
      const a = randomState(rng);
      const b = randomState(rng);
      expect(parseMariadbGtidState(formatMariadbGtidState(a.state))).toEqual(a.state);
      const u = mariadbStateUnion(a.state, b.state);
      const want = new Map(a.model);
      for (const [d, s] of b.model) if ((want.get(d) ?? -1n) < s) want.set(d, s);
      expect(new Map(u.map((g) => [g.domainId, g.seqNo]))).toEqual(want);

      const aCovers = [...b.model].every(([d, s]) => (a.model.get(d) ?? -1n) >= s);
      const bCovers = [...a.model].every(([d, s]) => (b.model.get(d) ?? -1n) >= s);
      const order = aCovers && bCovers ? 'equal' : aCovers ? 'after' : bCovers ? 'before' : 'diverged';
      expect(compareMariadbStates(a.state, b.state)).toBe(order);

      const g = { domainId: rng.pick([0, 1, 3]), serverId: 9, seqNo: BigInt(rng.int(12)) };
      const next = mariadbStateAdd(a.state, g);
      expect(mariadbStateHasReached(next, g)).toBe(true);
      expect(mariadbStateHasReached(next, { ...g, seqNo: g.seqNo + 1n })).toBe(false);
      expect(next.filter((e) => e.domainId === g.domainId)).toEqual([g]);
    }
  });
});
