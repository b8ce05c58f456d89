import { describe, expect, it } from 'vitest';
import {
  GtidError,
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
  normalizeMysqlGtidSet,
  parseGtidState,
  parseMariadbGtid,
  parseMariadbGtidState,
  parseMysqlGtid,
  parseMysqlGtidSet,
} from '../../../src/binlog/index.js';

const A = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const B = '4e11fa47-71ca-11e1-9e33-c80aa9429562';

function thrown(fn: () => unknown): GtidError {
  try {
    fn();
  } catch (err) {
    if (err instanceof GtidError) return err;
    throw err;
  }
  throw new Error('did not throw');
}

const fmt = (text: string): string => formatMysqlGtidSet(parseMysqlGtidSet(text));

describe('MySQL GTID sets: text form', () => {
  it('formats exactly, intervals end-inclusive, single GNOs without a range', () => {
    expect(fmt(`${A}:1-5:7`)).toBe(`${A}:1-5:7`);
    expect(fmt(`${A}:1`)).toBe(`${A}:1`);
    expect(fmt(`${A}:1-1`)).toBe(`${A}:1`);
    expect(parseMysqlGtidSet(`${A}:1-5:7`)).toEqual([
      {
        uuid: A,
        tag: undefined,
        intervals: [
          { start: 1n, end: 6n },
          { start: 7n, end: 8n },
        ],
      },
    ]);
  });

  it('merges overlapping and adjacent intervals and sorts', () => {
    expect(fmt(`${A}:7:1-3:4-5`)).toBe(`${A}:1-5:7`);
    expect(fmt(`${A}:1-10:3-4:10-12:14`)).toBe(`${A}:1-12:14`);
    expect(fmt(`${A}:5:6:7:1:2:3:4`)).toBe(`${A}:1-7`);
    expect(fmt(`${A}:1-3:9-20:4-8`)).toBe(`${A}:1-20`);
  });

  it('sorts UUIDs, merges a repeated UUID, lower-cases, accepts MySQL whitespace/newlines', () => {
    expect(fmt(`${B}:1,${A}:3`)).toBe(`${A}:3,${B}:1`);
    expect(fmt(`${A}:1-2,\n${A.toUpperCase()}:3`)).toBe(`${A}:1-3`);
    expect(fmt(` ${A} : 1 - 3 ,\n ${B}:9 `)).toBe(`${A}:1-3,${B}:9`);
    expect(fmt(A.replaceAll('-', '') + ':4')).toBe(`${A}:4`);
  });

  it('tags (8.3+): grouped after the untagged intervals of their UUID, lower-cased, sorted', () => {
    expect(fmt(`${A}:zz:1-3:5,${A}:1-2,${A}:Aa:7`)).toBe(`${A}:1-2:aa:7:zz:1-3:5`);
    expect(fmt(`${A}:1-3:tag_1:1-5:10:tag_1:6-9`)).toBe(`${A}:1-3:tag_1:1-10`);
    expect(fmt(`${A}:_x:1,${B}:1`)).toBe(`${A}:_x:1,${B}:1`);
    expect(parseMysqlGtidSet(`${A}:t:1`)[0]?.tag).toBe('t');
    const tag32 = 'a'.repeat(32);
    expect(fmt(`${A}:${tag32}:1`)).toBe(`${A}:${tag32}:1`);
    expect(thrown(() => parseMysqlGtidSet(`${A}:${tag32}b:1`)).code).toBe('GTID_PARSE');
  });

  it('empty set, a UUID without intervals, a tag without intervals', () => {
    expect(parseMysqlGtidSet('')).toEqual([]);
    expect(parseMysqlGtidSet(' \n ')).toEqual([]);
    expect(fmt(A)).toBe('');
    expect(fmt(`${A}:tag`)).toBe('');
    expect(fmt(`${A}:tag,${B}:2`)).toBe(`${B}:2`);
  });

  it('gno 1 and 2^63-1 are the bounds', () => {
    expect(fmt(`${A}:1-9223372036854775807`)).toBe(`${A}:1-9223372036854775807`);
    const set = parseMysqlGtidSet(`${A}:9223372036854775806-9223372036854775807`);
    expect(set[0]?.intervals).toEqual([{ start: MAX_GNO - 1n, end: MAX_GNO + 1n }]);
    expect(mysqlGtidSetContains(set, { uuid: A, tag: undefined, gno: MAX_GNO })).toBe(true);
    expect(thrown(() => parseMysqlGtidSet(`${A}:0`)).message).toBe(
      `GTID_PARSE: transaction number 0 is outside 1..9223372036854775807 in "${A}:0"`,
    );
    expect(thrown(() => parseMysqlGtidSet(`${A}:1-9223372036854775808`)).code).toBe('GTID_PARSE');
  });

  it('rejects bad text with GTID_PARSE naming the text', () => {
    const bad = [
      'abc',
      `${A}:`,
      `${A}:1-`,
      `${A}:-3`,
      `${A}:5-3`,
      `${A}:1,`,
      `,${A}:1`,
      `${A}:1::2`,
      `${A}:+1`,
      `${A}:1x`,
      `${A}:9tag:1`,
      `${A.slice(0, -1)}g:1`,
      '0-1-5',
    ];
    for (const text of bad) {
      const err = thrown(() => parseMysqlGtidSet(text));
      expect(err).toBeInstanceOf(GtidError);
      expect(err.code).toBe('GTID_PARSE');
      expect(err.retryable).toBe(false);
      expect(err.text).toBe(text);
      expect(err.message).toContain(JSON.stringify(text));
    }
    expect(thrown(() => parseMysqlGtidSet(`${A}:5-3`)).message).toBe(
      `GTID_PARSE: interval 5-3 ends before it starts in "${A}:5-3"`,
    );
  });

  it('single GTIDs', () => {
    expect(parseMysqlGtid(`${A}:5`)).toEqual({ uuid: A, tag: undefined, gno: 5n });
    expect(parseMysqlGtid(`${A.toUpperCase()}:Tag:9223372036854775807`)).toEqual({
      uuid: A,
      tag: 'tag',
      gno: MAX_GNO,
    });
    for (const text of [A, `${A}:1-2`, `${A}:0`, `${A}:t:u:1`, `${A}:`])
      expect(thrown(() => parseMysqlGtid(text)).code).toBe('GTID_PARSE');
  });
});

describe('MySQL GTID sets: operations', () => {
  const s = parseMysqlGtidSet(`${A}:1-5:7:t:3,${B}:10-20`);
  const g = (uuid: string, gno: bigint, tag?: string) => ({ uuid, tag, gno });

  it('contains', () => {
    expect([1n, 5n, 7n].map((n) => mysqlGtidSetContains(s, g(A, n)))).toEqual([true, true, true]);
    expect([6n, 8n, 0n].map((n) => mysqlGtidSetContains(s, g(A, n)))).toEqual([false, false, false]);
    expect(mysqlGtidSetContains(s, g(A, 3n, 't'))).toBe(true);
    expect(mysqlGtidSetContains(s, g(A, 4n, 't'))).toBe(false);
    expect(mysqlGtidSetContains(s, g(B, 20n))).toBe(true);
    expect(mysqlGtidSetContains(s, g(B, 20n, 't'))).toBe(false);
    expect(mysqlGtidSetContains([], g(A, 1n))).toBe(false);
  });

  it('isSubset', () => {
    const sub = (a: string, b: string) => mysqlGtidSetIsSubset(parseMysqlGtidSet(a), parseMysqlGtidSet(b));
    expect(sub('', '')).toBe(true);
    expect(sub('', `${A}:1`)).toBe(true);
    expect(sub(`${A}:1`, '')).toBe(false);
    expect(sub(`${A}:2-4`, `${A}:1-5`)).toBe(true);
    expect(sub(`${A}:2-6`, `${A}:1-5`)).toBe(false);
    expect(sub(`${A}:1-3:5`, `${A}:1-5`)).toBe(true);
    expect(sub(`${A}:1-5`, `${A}:1-3:5`)).toBe(false);
    expect(sub(`${A}:t:1`, `${A}:1`)).toBe(false);
    expect(sub(`${A}:1,${B}:1`, `${A}:1-9`)).toBe(false);
  });

  it('union and add', () => {
    const u = mysqlGtidSetUnion(parseMysqlGtidSet(`${A}:1-3`), parseMysqlGtidSet(`${A}:4-6:9,${B}:x:1`));
    expect(formatMysqlGtidSet(u)).toBe(`${A}:1-6:9,${B}:x:1`);
    let set = parseMysqlGtidSet('');
    for (const n of [1n, 2n, 3n, 5n]) set = mysqlGtidSetAdd(set, g(A, n));
    expect(formatMysqlGtidSet(set)).toBe(`${A}:1-3:5`);
    set = mysqlGtidSetAdd(set, g(A, 4n));
    expect(formatMysqlGtidSet(set)).toBe(`${A}:1-5`);
    expect(mysqlGtidSetAdd(set, g(A, 2n))).toBe(set);
    set = mysqlGtidSetAdd(set, g(A, 1n, 'x'));
    set = mysqlGtidSetAdd(set, g(B, MAX_GNO));
    expect(formatMysqlGtidSet(set)).toBe(`${A}:1-5:x:1,${B}:9223372036854775807`);
    expect(Object.isFrozen(set) && Object.isFrozen(set[0]) && Object.isFrozen(set[0]?.intervals)).toBe(true);
    expect(thrown(() => mysqlGtidSetAdd(set, g(A, 0n))).code).toBe('GTID_PARSE');
    expect(thrown(() => mysqlGtidSetAdd(set, g(A, MAX_GNO + 1n))).code).toBe('GTID_PARSE');
  });

  it('normalizes PREVIOUS_GTIDS-style input', () => {
    const set = normalizeMysqlGtidSet([
      { uuid: B, tag: undefined, intervals: [{ start: 5n, end: 6n }] },
      { uuid: A, tag: undefined, intervals: [] },
      {
        uuid: B,
        tag: undefined,
        intervals: [
          { start: 1n, end: 5n },
          { start: 9n, end: 9n },
        ],
      },
    ]);
    expect(formatMysqlGtidSet(set)).toBe(`${B}:1-5`);
  });
});

describe('MariaDB GTID positions', () => {
  it('parses, formats sorted by domain, one entry per domain', () => {
    const st = parseMariadbGtidState(' 1-2-7 , 0-101-5\n');
    expect(st).toEqual([
      { domainId: 0, serverId: 101, seqNo: 5n },
      { domainId: 1, serverId: 2, seqNo: 7n },
    ]);
    expect(formatMariadbGtidState(st)).toBe('0-101-5,1-2-7');
    expect(parseMariadbGtidState('')).toEqual([]);
    expect(formatMariadbGtidState(parseMariadbGtidState('4294967295-4294967295-18446744073709551615'))).toBe(
      '4294967295-4294967295-18446744073709551615',
    );
    expect(parseMariadbGtid('0-1-0')).toEqual({ domainId: 0, serverId: 1, seqNo: 0n });
  });

  it('rejects duplicates, out-of-range fields and bad text', () => {
    expect(thrown(() => parseMariadbGtidState('0-1-5,0-2-6')).message).toBe(
      'GTID_PARSE: domain 0 appears twice (one GTID per domain) in "0-1-5,0-2-6"',
    );
    for (const text of [
      '0-1',
      '0-1-2-3',
      '0-1-x',
      '-1-2-3',
      '4294967296-1-1',
      '0-4294967296-1',
      '0-1-18446744073709551616',
      '0-1-5,',
      `${A}:1`,
    ]) {
      const err = thrown(() => parseMariadbGtidState(text));
      expect(err.code).toBe('GTID_PARSE');
      expect(err.text).toBe(text);
    }
  });

  it('add replaces the domain entry; hasReached ignores the server id', () => {
    let st = parseMariadbGtidState('0-1-5');
    st = mariadbStateAdd(st, { domainId: 2, serverId: 3, seqNo: 1n });
    st = mariadbStateAdd(st, { domainId: 0, serverId: 2, seqNo: 6n });
    expect(formatMariadbGtidState(st)).toBe('0-2-6,2-3-1');
    expect(mariadbStateHasReached(st, parseMariadbGtid('0-1-6'))).toBe(true);
    expect(mariadbStateHasReached(st, parseMariadbGtid('0-9-3'))).toBe(true);
    expect(mariadbStateHasReached(st, parseMariadbGtid('0-2-7'))).toBe(false);
    expect(mariadbStateHasReached(st, parseMariadbGtid('1-2-1'))).toBe(false);
  });

  it('union is the per-domain max; compare is a partial order', () => {
    const a = parseMariadbGtidState('0-1-5,1-1-9');
    const b = parseMariadbGtidState('0-2-7,2-1-1');
    expect(formatMariadbGtidState(mariadbStateUnion(a, b))).toBe('0-2-7,1-1-9,2-1-1');
    expect(compareMariadbStates(a, b)).toBe('diverged');
    expect(compareMariadbStates(a, parseMariadbGtidState('0-3-5,1-4-9'))).toBe('equal');
    expect(compareMariadbStates(a, parseMariadbGtidState('0-1-4'))).toBe('after');
    expect(compareMariadbStates(parseMariadbGtidState(''), a)).toBe('before');
  });
});

describe('GtidState facade', () => {
  it('detects the flavour; empty text is flavourless until used', () => {
    expect(parseGtidState(`${A}:1-3`).flavor).toBe('mysql');
    expect(parseGtidState('0-1-3').flavor).toBe('mariadb');
    const empty = parseGtidState('');
    expect(empty.flavor).toBeUndefined();
    expect(empty.isEmpty).toBe(true);
    expect(empty.add('0-1-1').toString()).toBe('0-1-1');
    expect(empty.add(`${A}:1`).toString()).toBe(`${A}:1`);
    expect(empty.hasReached('0-1-1')).toBe(false);
    expect(parseGtidState('', 'mysql').flavor).toBe('mysql');
    expect(GtidState.empty('mariadb').add('0-1-1').flavor).toBe('mariadb');
  });

  it('is immutable; add/union return new states', () => {
    const s = parseGtidState(`${A}:1-3`);
    const t = s.add(`${A}:4`);
    expect(s.toString()).toBe(`${A}:1-3`);
    expect(t.toString()).toBe(`${A}:1-4`);
    expect(Object.isFrozen(s)).toBe(true);
    expect(JSON.stringify({ gtid: t })).toBe(`{"gtid":"${A}:1-4"}`);
  });

  it('MySQL: hasReached = contains; covers = superset; compare', () => {
    const s = parseGtidState(`${A}:1-10:t:1-2,${B}:1`);
    expect(s.hasReached(`${A}:10`)).toBe(true);
    expect(s.hasReached(`${A}:11`)).toBe(false);
    expect(s.hasReached(`${A}:T:2`)).toBe(true);
    expect(s.hasReached({ uuid: B.toUpperCase(), tag: undefined, gno: 1n })).toBe(true);
    expect(s.covers(`${A}:2-5`)).toBe(true);
    expect(s.covers(`${A}:2-11`)).toBe(false);
    expect(s.covers('')).toBe(true);
    expect(s.compare(`${A}:1-10:t:1-2,${B}:1`)).toBe('equal');
    expect(s.compare(`${A}:1-10`)).toBe('after');
    expect(s.compare(`${A}:1-11:t:1-2,${B}:1`)).toBe('before');
    expect(s.compare(`${A}:11`)).toBe('diverged');
    expect(s.union(`${A}:11-12`).toString()).toBe(`${A}:1-12:t:1-2,${B}:1`);
  });

  it('MariaDB: hasReached by domain sequence; covers; union', () => {
    const s = parseGtidState('0-101-5,1-7-3');
    expect(s.hasReached('0-999-5')).toBe(true);
    expect(s.hasReached('0-101-6')).toBe(false);
    expect(s.hasReached('2-1-1')).toBe(false);
    expect(s.covers('0-1-4')).toBe(true);
    expect(s.covers('0-1-4,2-1-1')).toBe(false);
    expect(s.add('0-102-6').toString()).toBe('0-102-6,1-7-3');
    expect(s.union('1-8-9,3-1-1').toString()).toBe('0-101-5,1-8-9,3-1-1');
    expect(s.equals('1-1-3,0-1-5')).toBe(true);
  });

  it('takes GTID events and PREVIOUS_GTIDS / GTID_LIST', () => {
    const mariadb = GtidState.fromEvent({
      kind: 'mariadb_gtid_list',
      header: { timestamp: 0, typeCode: 163, serverId: 1, eventSize: 0, nextPosition: 0, flags: 0 },
      flags: 0,
      gtids: [
        { domainId: 0, serverId: 1, seqNo: 9n },
        { domainId: 0, serverId: 2, seqNo: 12n },
      ],
    });
    expect(mariadb.toString()).toBe('0-2-12');
    const mysql = GtidState.fromMysqlSet([{ uuid: A, tag: undefined, intervals: [{ start: 1n, end: 4n }] }]);
    expect(mysql.toString()).toBe(`${A}:1-3`);
    const anonymous = {
      kind: 'mysql_gtid',
      anonymous: true,
      sid: '00000000-0000-0000-0000-000000000000',
      tag: undefined,
      gno: 0n,
    } as Parameters<GtidState['add']>[0];
    expect(mysql.add(anonymous)).toBe(mysql);
  });

  it('flavour mismatches and parse errors are typed', () => {
    const my = parseGtidState(`${A}:1`);
    const ma = parseGtidState('0-1-1');
    expect(thrown(() => my.add('0-1-2')).code).toBe('GTID_FLAVOR_MISMATCH');
    expect(thrown(() => ma.hasReached(`${A}:1`)).code).toBe('GTID_FLAVOR_MISMATCH');
    expect(thrown(() => my.covers(ma)).code).toBe('GTID_FLAVOR_MISMATCH');
    expect(thrown(() => ma.union(my)).code).toBe('GTID_FLAVOR_MISMATCH');
    expect(thrown(() => parseGtidState('0-1-x')).code).toBe('GTID_PARSE');
    expect(thrown(() => parseGtidState('0-1-1', 'mysql')).code).toBe('GTID_PARSE');
    expect(thrown(() => parseGtidState(`${A}:1`, 'mariadb')).code).toBe('GTID_PARSE');
  });
});
