import { describe, expect, it } from 'vitest';
import { GtidState } from '../../../src/binlog/index.js';
import { mariadbHistoryVerdict, mysqlHistoryVerdict } from '../../../src/tailer/history.js';

const U = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const V = '4e11fa47-71ca-11e1-9e33-c80aa9429562';
const set = (text: string) => GtidState.parse(text, 'mysql').mysqlSet ?? [];
const pos = (text: string) => GtidState.parse(text, 'mariadb').mariadbState ?? [];

describe('mysqlHistoryVerdict (resume set vs the replica’s gtid_executed)', () => {
  it('joins when the replica has everything read and more', () => {
    expect(mysqlHistoryVerdict(set(`${U}:1-10`), set(`${U}:1-15,${V}:1-3`))).toEqual({ kind: 'joins' });
  });

  it('joins after a reset whose new history starts right after what was read (nothing lost)', () => {
    expect(mysqlHistoryVerdict(set(`${U}:1-10`), set(`${U}:11-12`))).toEqual({ kind: 'joins' });
  });

  it('is a hole after a reset whose new history starts later: the numbers in between are gone', () => {
    expect(mysqlHistoryVerdict(set(`${U}:1-10`), set(`${U}:14-15`))).toEqual({
      kind: 'hole',
      source: U,
      resumedAt: 10n,
      first: 11n,
      last: 13n,
      found: 14n,
    });
  });

  it('is behind when the replica has not got to the resume point (lagging, or reset with nothing since)', () => {
    expect(mysqlHistoryVerdict(set(`${U}:1-10`), set(`${U}:1-7`))).toEqual({
      kind: 'behind',
      source: U,
      resumedAt: 10n,
      has: 7n,
    });
    expect(mysqlHistoryVerdict(set(`${U}:1-10`), set(''))).toEqual({
      kind: 'behind',
      source: U,
      resumedAt: 10n,
      has: 0n,
    });
  });

  it('checks tagged GTIDs as a source of their own', () => {
    expect(mysqlHistoryVerdict(set(`${U}:1-3:blue:1-2`), set(`${U}:1-3:blue:5`))).toEqual({
      kind: 'hole',
      source: `${U}:blue`,
      resumedAt: 2n,
      first: 3n,
      last: 4n,
      found: 5n,
    });
  });
});

describe('mariadbHistoryVerdict (resume position vs the replica’s binlog)', () => {
  const first = (seq: bigint | null) => () => Promise.resolve(seq);

  it('joins when the binlog ends at the resume point, without reading the binlog', async () => {
    const never = () => Promise.reject(new Error('not read'));
    expect(await mariadbHistoryVerdict(pos('0-1-10'), pos('0-1-10'), never)).toEqual({ kind: 'joins' });
  });

  it('joins when the oldest file continues an earlier state, or the binlog starts at or before the next one', async () => {
    expect(await mariadbHistoryVerdict(pos('0-1-10'), pos('0-1-20'), first(null))).toEqual({ kind: 'joins' });
    expect(await mariadbHistoryVerdict(pos('0-1-10'), pos('0-1-20'), first(11n))).toEqual({ kind: 'joins' });
  });

  it('is a hole when the binlog (no earlier state) starts past the next one', async () => {
    expect(await mariadbHistoryVerdict(pos('0-1-10'), pos('0-1-20'), first(14n))).toEqual({
      kind: 'hole',
      source: 'domain 0',
      resumedAt: 10n,
      first: 11n,
      last: 13n,
      found: 14n,
    });
  });

  it('is behind when the binlog has not got to the resume point in a domain (or has none of it)', async () => {
    expect(await mariadbHistoryVerdict(pos('0-1-10,1-2-5'), pos('0-1-10'), first(null))).toEqual({
      kind: 'behind',
      source: 'domain 1',
      resumedAt: 5n,
      has: 0n,
    });
  });
});
