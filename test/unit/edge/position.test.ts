import { describe, expect, it } from 'vitest';
import { parseGtidState } from '../../../src/binlog/index.js';
import { writeReached } from '../../../src/edge/position.js';

const U1 = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const U2 = '4f22fb58-82db-22f2-af44-d91bb0530673';
const wm = (...gtids: string[]) =>
  gtids.map((g, i) => ({ url: `http://t${i + 1}/status`, gtid: parseGtidState(g) }));
const reached = (write: string, ...watermarks: string[]) =>
  writeReached(parseGtidState(write), wm(...watermarks));

describe('writeReached', () => {
  it('MariaDB: a domain is reached at the same or a higher sequence, whichever server wrote it', () => {
    expect([reached('0-1-57', '0-1-56'), reached('0-1-57', '0-1-57'), reached('0-1-57', '0-2-90')]).toEqual([
      false,
      true,
      true,
    ]);
  });

  it('MySQL: the GTID must be in the set', () => {
    expect([
      reached(`${U1}:57`, `${U1}:1-56`),
      reached(`${U1}:57`, `${U1}:1-57`),
      reached(`${U1}:57`, `${U1}:1-50:57`),
      reached(`${U1}:1-57`, `${U1}:1-50:57`),
    ]).toEqual([false, true, true, false]);
  });

  it('several tailers: each part is judged only by the tailers that know it (shards)', () => {
    // shard A = domain 1, shard B = domain 2
    expect(reached('1-10-5', '1-10-5', '2-20-1')).toBe(true);
    expect(reached('2-20-7', '1-10-5', '2-20-6')).toBe(false);
    expect(reached('1-10-5,2-20-7', '1-10-5', '2-20-7')).toBe(true);
    expect(reached('1-10-5,2-20-7', '1-10-5', '2-20-6')).toBe(false);
    expect(reached(`${U2}:3`, `${U1}:1-9`, `${U2}:1-3`)).toBe(true);
  });

  it('several tailers of one domain (replicas): every one must have reached it', () => {
    expect(reached('0-1-57', '0-1-57', '0-1-56')).toBe(false);
    expect(reached('0-1-57', '0-1-57', '0-1-60')).toBe(true);
  });

  it("across a switchover: the new primary's writes are reached exactly when the watermark has them", () => {
    // MariaDB, same domain, new server id 3: the sequence numbers go on (gtid_strict_mode).
    expect([reached('0-3-51', '0-1-50'), reached('0-3-51', '0-3-51')]).toEqual([false, true]);
    // MariaDB, the new primary's own domain 1: unknown (pinned) until the tailer acknowledged one of it.
    expect([reached('1-3-1', '0-1-50'), reached('1-3-1', '0-1-50,1-3-1')]).toEqual([false, true]);
    // A cookie holding a write on each primary: both must be reached.
    expect([reached('0-1-50,1-3-2', '0-1-50,1-3-1'), reached('0-1-50,1-3-2', '0-1-50,1-3-2')]).toEqual([
      false,
      true,
    ]);
    // MySQL, the new primary's server_uuid U2.
    expect([reached(`${U2}:1`, `${U1}:1-50`), reached(`${U1}:50,${U2}:1`, `${U1}:1-50,${U2}:1`)]).toEqual([
      false,
      true,
    ]);
  });

  it('a part no tailer knows is never reached (another domain, another source, another flavour)', () => {
    expect(reached('3-1-1', '0-1-100')).toBe(false);
    expect(reached(`${U2}:1`, `${U1}:1-100`)).toBe(false);
    expect(reached('0-1-1', `${U1}:1-100`)).toBe(false);
    expect(reached('0-1-1')).toBe(false);
  });
});
