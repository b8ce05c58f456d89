/** withInvalidation against a recording connection: the exact statements, in order, for every path. */
import { describe, expect, it } from 'vitest';
import { InvalidationError, TOMBSTONE_VALUE, withInvalidation } from '../../../src/app/index.js';
import type { LocalCacheClient } from '../../../src/app/index.js';
import { fakeConnection, serverError } from './fake-connection.js';

const now = () => 1_700_000_000_123;
const CARRIER =
  'INSERT INTO `cachetail_carrier` (conn_id, n) VALUES (CONNECTION_ID(), 1) ON DUPLICATE KEY UPDATE n = n + 1';

function recordingCache(fail: (key: string) => boolean = () => false) {
  const calls: string[] = [];
  const client: LocalCacheClient = {
    delete: (key) => {
      calls.push(`delete ${key}`);
      return fail(key) ? Promise.reject(new Error('ECONNREFUSED')) : Promise.resolve(true);
    },
    set: (key, value, o) => {
      calls.push(`set ${key} ${value.equals(TOMBSTONE_VALUE) ? 'TOMBSTONE' : 'other'} ${o.expires}`);
      return fail(key) ? Promise.reject(new Error('ECONNREFUSED')) : Promise.resolve(true);
    },
  };
  return { calls, client };
}

describe('withInvalidation (comment mode)', () => {
  it('sends the statements as they are, then one annotated carrier with every key, then COMMIT', async () => {
    const f = fakeConnection();
    const out = await withInvalidation(
      f.conn,
      async (tx) => {
        await tx.query('UPDATE t SET a = ? WHERE id = ?', [1, 2]);
        tx.dirty('user:2');
        await tx.execute('DELETE FROM t WHERE id = ?', [3]);
        tx.dirty('user:3', 'user:2', 'team:*/x');
        expect(tx.keys).toEqual(['user:2', 'user:3', 'team:*/x']);
        return 42;
      },
      { now },
    );
    expect(out).toBe(42);
    expect(f.sql).toEqual([
      'START TRANSACTION',
      'UPDATE t SET a = ? WHERE id = ?',
      'EXECUTE DELETE FROM t WHERE id = ?',
      `${CARRIER} /* MEMCACHE_DIRTY user:2,user:3,team:%2A%2Fx ts=1700000000123 */`,
      'COMMIT',
    ]);
    expect(f.values).toEqual([undefined, [1, 2], [3], [], undefined]);
  });

  it('sends no carrier for a transaction without keys; sets the isolation level first when asked', async () => {
    const f = fakeConnection();
    await withInvalidation(f.conn, (tx) => tx.query('UPDATE t SET a = 1'), {
      isolationLevel: 'READ COMMITTED',
    });
    expect(f.sql).toEqual([
      'SET TRANSACTION ISOLATION LEVEL READ COMMITTED',
      'START TRANSACTION',
      'UPDATE t SET a = 1',
      'COMMIT',
    ]);
  });

  it('splits a very large key set over several carriers, each logged on its own', async () => {
    const f = fakeConnection();
    const keys = Array.from({ length: 400 }, (_, i) => `k${i}:${'x'.repeat(240)}`);
    await withInvalidation(f.conn, (tx) => tx.dirty(...keys), { now });
    const carriers = f.sql.filter((s) => s.startsWith('INSERT'));
    expect(carriers.length).toBe(4);
    for (const c of carriers) expect(c.length).toBeLessThan(33_000);
    const carried = carriers.flatMap((c) => /MEMCACHE_DIRTY (\S+) ts=/.exec(c)![1].split(','));
    expect(carried).toEqual(keys);
  });

  it('names a configured carrier table in another schema', async () => {
    const f = fakeConnection();
    await withInvalidation(f.conn, (tx) => tx.dirty('a'), { now, carrierTable: 'ops.ct_carrier' });
    expect(f.sql[1]).toMatch(/^INSERT INTO `ops`\.`ct_carrier` \(conn_id, n\)/);
  });
});

describe('withInvalidation (outbox mode)', () => {
  it('inserts each key as a hex literal of its UTF-8 bytes, before COMMIT', async () => {
    const f = fakeConnection();
    await withInvalidation(f.conn, (tx) => tx.dirty('user:1', "it's*/é"), { mode: 'outbox', now });
    expect(f.sql).toEqual([
      'START TRANSACTION',
      "INSERT INTO `cachetail_dirty_keys` (cache_key) VALUES (X'757365723a31'),(X'697427732a2fc3a9')",
      'COMMIT',
    ]);
  });

  it('writes 500 rows per INSERT', async () => {
    const f = fakeConnection();
    const keys = Array.from({ length: 1001 }, (_, i) => `k:${i}`);
    await withInvalidation(f.conn, (tx) => tx.dirty(...keys), { mode: 'outbox', outboxTable: 'app.outbox' });
    const inserts = f.sql.filter((s) => s.startsWith('INSERT INTO `app`.`outbox`'));
    expect(inserts.map((s) => s.split('),(').length)).toEqual([500, 500, 1]);
  });
});

describe('withInvalidation failure paths', () => {
  it('rolls back and rethrows when fn throws: no carrier, no local delete, keys forgotten', async () => {
    const f = fakeConnection();
    const cache = recordingCache();
    const boom = new Error('boom');
    await expect(
      withInvalidation(
        f.conn,
        async (tx) => {
          await tx.query('UPDATE t SET a = 1');
          tx.dirty('user:1');
          throw boom;
        },
        { local: { client: cache.client } },
      ),
    ).rejects.toBe(boom);
    expect(f.sql).toEqual(['START TRANSACTION', 'UPDATE t SET a = 1', 'ROLLBACK']);
    expect(cache.calls).toEqual([]);
  });

  it('a missing carrier table is INVALIDATION_TABLE_MISSING (rolled back); other errors pass through as they are', async () => {
    const f = fakeConnection();
    f.failOn(
      /^INSERT INTO `cachetail_carrier`/,
      serverError(1146, "Table 'app.cachetail_carrier' doesn't exist"),
    );
    const err = await withInvalidation(f.conn, (tx) => tx.dirty('a')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidationError);
    expect(err).toMatchObject({ code: 'INVALIDATION_TABLE_MISSING', retryable: false });
    expect(f.sql.at(-1)).toBe('ROLLBACK');

    const deadlock = serverError(1213, 'Deadlock found');
    const g = fakeConnection();
    g.failOn(/^INSERT/, deadlock);
    await expect(withInvalidation(g.conn, (tx) => tx.dirty('a'))).rejects.toBe(deadlock);
  });

  it('a failed COMMIT (outcome unknown) still deletes locally, rethrows, and never returns the connection to the pool', async () => {
    const f = fakeConnection();
    const cache = recordingCache();
    const lost = new Error('Connection lost: The server closed the connection.');
    f.failOn(/^COMMIT$/, lost);
    await expect(
      withInvalidation(f.pool, (tx) => tx.dirty('user:9'), { local: { client: cache.client } }),
    ).rejects.toBe(lost);
    expect(cache.calls).toEqual(['delete user:9']);
    expect([f.released, f.destroyed]).toEqual([0, 1]);
  });

  it('a pool connection goes back after success and after a clean rollback; a failed ROLLBACK destroys it', async () => {
    const f = fakeConnection();
    await withInvalidation(f.pool, (tx) => tx.dirty('a'));
    await withInvalidation(f.pool, () => Promise.reject(new Error('x'))).catch(() => undefined);
    expect([f.released, f.destroyed]).toEqual([2, 0]);
    f.failOn(/^ROLLBACK$/, new Error('gone'));
    await withInvalidation(f.pool, () => Promise.reject(new Error('x'))).catch(() => undefined);
    expect([f.released, f.destroyed]).toEqual([2, 1]);
  });

  it('validates every key of a dirty() call before adding any', async () => {
    const f = fakeConnection();
    await withInvalidation(f.conn, (tx) => {
      expect(() => tx.dirty('ok', 'has space')).toThrow(
        expect.objectContaining({ name: 'AnnotationError', code: 'ANNOTATION_INVALID_KEY' }),
      );
      expect(() => tx.dirty('x'.repeat(251))).toThrow(
        expect.objectContaining({ code: 'ANNOTATION_INVALID_KEY' }),
      );
      expect(() => tx.dirty('')).toThrow(expect.objectContaining({ code: 'ANNOTATION_INVALID_KEY' }));
      expect(() => tx.dirty(42 as unknown as string)).toThrow(
        expect.objectContaining({ code: 'ANNOTATION_INVALID_KEY' }),
      );
      expect(tx.keys).toEqual([]);
    });
    expect(f.sql).toEqual(['START TRANSACTION', 'COMMIT']);
  });

  it('refuses transaction control through tx, in any spelling, and bad options before touching the connection', async () => {
    for (const sql of [
      'COMMIT',
      ' commit work',
      '/* x */ ROLLBACK',
      'BEGIN',
      'start  transaction',
      'XA END "x"',
    ]) {
      const f = fakeConnection();
      await expect(withInvalidation(f.conn, (tx) => tx.query(sql))).rejects.toMatchObject({
        code: 'INVALIDATION_TX_CONTROL',
      });
      expect(f.sql).toEqual(['START TRANSACTION', 'ROLLBACK']);
    }
    const f = fakeConnection();
    await expect(withInvalidation(f.conn, (tx) => tx.execute({ sql: 'COMMIT' }))).rejects.toMatchObject({
      code: 'INVALIDATION_TX_CONTROL',
    });
    // Not transaction control: a column named begin_at, an executable comment, a string.
    await withInvalidation(f.conn, async (tx) => {
      await tx.query('UPDATE t SET begin_at = 1');
      await tx.query("/*!40000 SELECT 'COMMIT' */");
    });
    for (const table of ['a.b.c', 'a b', 'x`y', '', '1.2', 'a;DROP']) {
      const g = fakeConnection();
      await expect(withInvalidation(g.conn, () => undefined, { carrierTable: table })).rejects.toMatchObject({
        code: 'INVALIDATION_TABLE_NAME',
      });
      expect(g.sql).toEqual([]);
    }
    await expect(
      withInvalidation(fakeConnection().conn, () => undefined, { mode: 'binlog' as 'outbox' }),
    ).rejects.toMatchObject({ code: 'INVALIDATION_USAGE' });
  });
});

describe('the local (master region) tier', () => {
  it('deletes every key after COMMIT, or writes tombstones with the hold-off TTL', async () => {
    const a = recordingCache();
    await withInvalidation(fakeConnection().conn, (tx) => tx.dirty('a', 'b'), {
      local: { client: a.client },
    });
    expect(a.calls).toEqual(['delete a', 'delete b']);
    const b = recordingCache();
    await withInvalidation(fakeConnection().conn, (tx) => tx.dirty('a'), {
      local: { client: b.client, holdOffSeconds: 7 },
    });
    expect(b.calls).toEqual(['set a TOMBSTONE 7']);
  });

  it('a local failure after commit rejects with committed: true and the failed keys, or goes to onLocalError', async () => {
    const c = recordingCache((k) => k === 'b');
    const err = await withInvalidation(fakeConnection().conn, (tx) => tx.dirty('a', 'b', 'c'), {
      local: { client: c.client },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALIDATION_LOCAL_FAILED', committed: true, keys: ['b'] });
    const seen: InvalidationError[] = [];
    const out = await withInvalidation(fakeConnection().conn, (tx) => (tx.dirty('b'), 'ok'), {
      local: { client: c.client },
      onLocalError: (e) => seen.push(e),
    });
    expect(out).toBe('ok');
    expect(seen.map((e) => e.keys)).toEqual([['b']]);
  });
});

describe('onCommit: the GTID of the commit', () => {
  const UUID = '3e11fa47-71ca-11e1-9e33-c80aa9429562';

  it('MariaDB: reads @@last_gtid after COMMIT, reports it with the keys, then invalidates the local tier', async () => {
    const f = fakeConnection();
    f.answer(/VERSION\(\)/, [{ v: '11.8.9-MariaDB-0+deb13u1-log' }]);
    f.answer(/@@last_gtid/, [{ g: '0-1-57' }]);
    const order: string[] = [];
    const cache = recordingCache();
    const local = {
      client: {
        ...cache.client,
        delete: (key: string) => (order.push(`delete ${key}`), cache.client.delete(key)),
      },
    };
    await withInvalidation(f.conn, (tx) => tx.dirty('a', 'b'), {
      now,
      local,
      onCommit: (c) => order.push(`commit ${c.gtid} ${c.keys.join(',')}`),
    });
    expect(f.sql).toEqual([
      'SELECT VERSION() AS v',
      'START TRANSACTION',
      `${CARRIER} /* MEMCACHE_DIRTY a,b ts=1700000000123 */`,
      'COMMIT',
      'SELECT @@last_gtid AS g',
    ]);
    expect(order).toEqual(['commit 0-1-57 a,b', 'delete a', 'delete b']);
  });

  it('MySQL: tracks GTIDs once per session (a pool hands out new wrappers) and reads them from COMMIT', async () => {
    const f = fakeConnection();
    f.answer(/VERSION\(\)/, [{ v: '9.7.4' }]);
    let n = 0;
    f.answer(/^COMMIT$/, {
      affectedRows: 0,
      get stateChanges() {
        return { gtids: [`${UUID}:${++n}`] };
      },
    });
    const gtids: string[] = [];
    for (const key of ['a', 'b']) {
      await withInvalidation(f.pool, (tx) => tx.dirty(key), { now, onCommit: (c) => gtids.push(c.gtid) });
    }
    expect(gtids).toEqual([`${UUID}:1`, `${UUID}:2`]);
    expect(f.sql).toEqual([
      'SELECT VERSION() AS v',
      'SET SESSION session_track_gtids = OWN_GTID',
      'START TRANSACTION',
      `${CARRIER} /* MEMCACHE_DIRTY a ts=1700000000123 */`,
      'COMMIT',
      'START TRANSACTION',
      `${CARRIER} /* MEMCACHE_DIRTY b ts=1700000000123 */`,
      'COMMIT',
    ]);
    expect(f.released).toBe(2);
  });

  it("MySQL: '' when the transaction logged nothing (no GTID in the OK packet)", async () => {
    const f = fakeConnection();
    f.answer(/VERSION\(\)/, [{ v: '9.7.4' }]);
    const seen: unknown[] = [];
    await withInvalidation(f.conn, (tx) => tx.query('SELECT 1'), { onCommit: (c) => seen.push(c) });
    expect(seen).toEqual([{ gtid: '', keys: [] }]);
  });

  it('is not called when the transaction rolls back or COMMIT fails', async () => {
    const calls: unknown[] = [];
    const onCommit = (c: unknown) => calls.push(c);
    const f = fakeConnection();
    f.answer(/VERSION\(\)/, [{ v: '10.11.19-MariaDB' }]);
    await expect(
      withInvalidation(f.conn, () => Promise.reject(new Error('boom')), { onCommit }),
    ).rejects.toThrow('boom');
    f.failOn(/^COMMIT$/, new Error('gone'));
    await expect(withInvalidation(f.conn, (tx) => tx.dirty('k'), { onCommit })).rejects.toThrow('gone');
    expect(calls).toEqual([]);
  });

  it('an error thrown by onCommit comes after the local tier was invalidated', async () => {
    const f = fakeConnection();
    f.answer(/VERSION\(\)/, [{ v: '10.11.19-MariaDB' }]);
    f.answer(/@@last_gtid/, [{ g: '0-1-9' }]);
    const cache = recordingCache();
    const err = new Error('callback failed');
    await expect(
      withInvalidation(f.conn, (tx) => tx.dirty('k'), {
        local: { client: cache.client },
        onCommit: () => {
          throw err;
        },
      }),
    ).rejects.toBe(err);
    expect(cache.calls).toEqual(['delete k']);
  });

  it("a GTID read that fails after COMMIT reports '' (pin by time), returns fn's result, and drops the pool connection", async () => {
    const f = fakeConnection();
    f.answer(/VERSION\(\)/, [{ v: '10.11.19-MariaDB' }]);
    f.failOn(/@@last_gtid/, new Error('connection lost'));
    const seen: string[] = [];
    const out = await withInvalidation(f.pool, (tx) => (tx.dirty('k'), 42), {
      onCommit: (c) => seen.push(c.gtid),
    });
    expect([out, seen, f.destroyed, f.released]).toEqual([42, [''], 1, 0]);
  });
});
