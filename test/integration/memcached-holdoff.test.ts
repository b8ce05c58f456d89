/**
 * Hold-off mode on a real memcached: the tombstone replaces the value, makes an `add`-based fill fail
 * (the stale-set race) and expires after its TTL, when fills work again. The contrast case shows the race
 * a plain delete leaves open. Read with memjs, as the app would.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemcachedSink } from '../../src/sinks/memcached/sink.js';
import { isTombstone, TOMBSTONE_FLAGS } from '../../src/sinks/memcached/tombstone.js';
import { waitFor } from '../helpers/wait.js';
import { serverStats, startTestServers, testLogger, type TestServers } from './memcached-support.js';

const never = new AbortController().signal;
const TTL_S = 2;
let ts: TestServers;

beforeAll(async () => {
  ts = await startTestServers(1);
});
afterAll(async () => {
  await ts?.stop();
});
beforeEach(async () => {
  await ts.direct[0].flush();
});

function sink(holdOff: { ttlSeconds: number } | null): MemcachedSink {
  return new MemcachedSink({
    servers: [ts.servers[0].address],
    timeoutMs: 1_000,
    holdOff,
    log: testLogger(),
  });
}

describe('hold-off tombstones', () => {
  it('block an add-based fill until they expire, then the fill succeeds', { timeout: 30_000 }, async () => {
    const mc = ts.direct[0];
    const s = sink({ ttlSeconds: TTL_S });
    try {
      await mc.set('user:1', 'old name', {});
      // memcached's own clock (whole seconds, and it can lag real time on a busy machine): expiry is
      // asserted against it, not against ours.
      const serverTimeBefore = (await serverStats(ts.servers[0].address)).time;
      await s.deliver({ transactions: [], keys: ['user:1', 'user:2'] }, never);
      expect(s.stats).toMatchObject({ tombstoned: 2, deleted: 0, errors: 0 });

      const got = await mc.get('user:1');
      expect(isTombstone(got.value)).toBe(true);
      expect(got.flags?.readUInt32BE(0)).toBe(TOMBSTONE_FLAGS);
      expect(isTombstone((await mc.get('user:2')).value)).toBe(true); // also for keys that were not cached
      // The reader that read the lagging replica now tries to cache what it read: refused.
      expect(await mc.add('user:1', 'old name', {})).toBe(false);
      expect(isTombstone((await mc.get('user:1')).value)).toBe(true);

      await waitFor(
        'tombstone expiry',
        async () => ((await mc.get('user:1')).value === null ? true : undefined),
        10_000,
        50,
      );
      const serverTimeAfter = (await serverStats(ts.servers[0].address)).time;
      expect(serverTimeAfter - serverTimeBefore).toBeGreaterThanOrEqual(TTL_S);
      expect(await mc.add('user:1', 'new name', {})).toBe(true);
      expect((await mc.get('user:1')).value?.toString()).toBe('new name');
    } finally {
      await s.close();
    }
  });

  it('without hold-off a plain delete lets the stale add straight back (the race it closes)', async () => {
    const mc = ts.direct[0];
    const s = sink(null);
    try {
      await mc.set('user:1', 'old name', {});
      await s.deliver({ transactions: [], keys: ['user:1'] }, never);
      expect((await mc.get('user:1')).value).toBe(null);
      expect(await mc.add('user:1', 'old name', {})).toBe(true);
      expect(s.stats).toMatchObject({ deleted: 1, tombstoned: 0 });
    } finally {
      await s.close();
    }
  });
});
