/**
 * The stale-set race on real servers, and what closes it. A reader in the replica region misses the
 * cache, reads the lagging replica (old value), and is slow to fill; meanwhile the replica applies the
 * write and the tailer invalidates; then the reader fills.
 *  - plain deletes: the fill lands after the delete and the old value is cached again (the race);
 *  - hold-off (tombstones) + getOrLoad's add: the fill is refused; the old value never lands, and once
 *    the tombstone expires the next read caches the new value.
 * Run for comment mode and outbox mode (the real Tailer), on every server line. Plus the writer’s own
 * region reading its write.
 */
import memjs from 'memjs';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createReadThroughStats,
  encodeEnvelope,
  getOrLoad,
  isTombstone,
  withInvalidation,
  type InvalidationOptions,
} from '../../src/app/index.js';
import { carrierTableDdl, outboxTableDdl } from '../../src/app/schema.js';
import { clusterControl } from '../../src/devcluster/index.js';
import { waitFor } from '../helpers/wait.js';
import { CommitLog, startAppTailer, type AppTailer } from './app-support.js';

const info = inject('cluster');
const cluster = clusterControl(info);
const DB = 'appr';
const HOLD_OFF_S = 2;
const quiet = { logger: { log: () => undefined } };
const regionCache = memjs.Client.create(info.memcached.replica, quiet);
const homeCache = memjs.Client.create(info.memcached.master, quiet);
let conn: Connection;
let nextId = 1;
const commits = new CommitLog();

async function replicaName(id: number): Promise<string> {
  const rows = await cluster.query<RowDataPacket[]>('replica', `SELECT name FROM ${DB}.users WHERE id = ?`, [
    id,
  ]);
  return String(rows[0]?.name);
}

beforeAll(async () => {
  await cluster.query(
    'primary',
    `CREATE DATABASE IF NOT EXISTS ${DB};
     CREATE TABLE ${DB}.users (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL) ENGINE=InnoDB;
     INSERT INTO ${DB}.users VALUES ${Array.from({ length: 10 }, (_, i) => `(${i + 1}, 'old')`).join(',')};
     ${carrierTableDdl(`${DB}.cachetail_carrier`)}
     ${outboxTableDdl(`${DB}.cachetail_dirty_keys`)}`,
  );
  await cluster.waitForReplicaCatchUp();
  conn = await cluster.connect('primary', { database: DB });
});
afterAll(async () => {
  await cluster.startReplicaSql();
  await conn?.end();
  regionCache.close();
  homeCache.close();
});

/**
 * Plays the race for one fresh row; returns what the reader served, what the cache holds right after its
 * fill attempt, and the stats.
 */
async function race(tailer: AppTailer, writer: InvalidationOptions) {
  const id = nextId++;
  const key = `user:${id}:name`;
  const stats = createReadThroughStats();
  await cluster.stopReplicaSql();
  try {
    await withInvalidation(
      conn,
      async (tx) => {
        await tx.execute('UPDATE users SET name = ? WHERE id = ?', ['new', id]);
        tx.dirty(key);
      },
      { ...writer, onCommit: commits.record },
    );
    const gtid = commits.last();
    // The replica has the write in its relay log and has not applied it.
    await cluster.waitForFetchedNotApplied(gtid);

    let readDone!: () => void;
    const read = new Promise<void>((r) => (readDone = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const reader = getOrLoad(
      regionCache,
      key,
      async () => {
        const name = await replicaName(id); // the lagging replica: 'old'
        readDone();
        await gate; // a slow reader: the fill comes after the invalidation
        return name;
      },
      { ttl: 3600, stats },
    );
    await read;
    await cluster.startReplicaSql();
    expect(await tailer.keysOf(gtid)).toEqual([key]);
    const atInvalidation = (await regionCache.get(key)).value;
    release();
    const served = await reader;
    return { id, key, served, atInvalidation, after: (await regionCache.get(key)).value, stats };
  } finally {
    await cluster.startReplicaSql();
  }
}

const modes: [string, InvalidationOptions][] = [
  ['comment mode', { carrierTable: `${DB}.cachetail_carrier` }],
  ['outbox mode', { mode: 'outbox', outboxTable: `${DB}.cachetail_dirty_keys` }],
];

describe.each(modes)('the stale-set race, %s', (_, writer) => {
  const outboxTables = writer.mode === 'outbox' ? [`${DB}.cachetail_dirty_keys`] : undefined;
  const start = (holdOffSeconds?: number) =>
    startAppTailer({
      replica: info.replica,
      tailerUser: info.tailerUser,
      memcached: info.memcached.replica,
      holdOffSeconds,
      outboxTables,
    });

  it('with plain deletes the old value lands after the delete and stays (why hold-off exists)', async () => {
    const tailer = await start();
    try {
      const r = await race(tailer, writer);
      expect(r.served).toBe('old');
      expect(r.atInvalidation).toBeNull(); // deleted …
      expect(r.after?.toString()).toBe(encodeEnvelope('json', 'old')); // … and refilled with the old value
      expect(r.stats).toMatchObject({ misses: 1, fills: 1, fillsRefused: 0 });
      expect(await replicaName(r.id)).toBe('new');
      // Every later reader in the region now gets the stale name, from the cache.
      const later = createReadThroughStats();
      expect(await getOrLoad(regionCache, r.key, () => replicaName(r.id), { ttl: 3600, stats: later })).toBe(
        'old',
      );
      expect(later.hits).toBe(1);
    } finally {
      await tailer.stop();
    }
  });

  it('with hold-off tombstones the old value never lands; after the hold-off the new one is cached', async () => {
    const tailer = await start(HOLD_OFF_S);
    try {
      const r = await race(tailer, writer);
      expect(r.served).toBe('old'); // this one reader saw the replica before it applied the write
      expect(isTombstone(r.atInvalidation)).toBe(true);
      expect(isTombstone(r.after)).toBe(true); // the add was refused: the tombstone is still there
      expect(r.stats).toMatchObject({ misses: 1, fills: 0, fillsRefused: 1 });

      // While the tombstone lives, readers load (the replica has the new name) and do not fill.
      const during = createReadThroughStats();
      expect(await getOrLoad(regionCache, r.key, () => replicaName(r.id), { ttl: 3600, stats: during })).toBe(
        'new',
      );
      expect(during).toMatchObject({ tombstones: 1, fills: 0 });

      await waitFor('the tombstone to expire', async () =>
        (await regionCache.get(r.key)).value === null ? true : undefined,
      );
      const afterwards = createReadThroughStats();
      for (let i = 0; i < 2; i++) {
        expect(
          await getOrLoad(regionCache, r.key, () => replicaName(r.id), { ttl: 3600, stats: afterwards }),
        ).toBe('new');
      }
      expect(afterwards).toMatchObject({ misses: 1, fills: 1, hits: 1 });
    } finally {
      await tailer.stop();
    }
  });
});

describe.each(modes)('the writer’s own region, %s', (_, writer) => {
  it('reads its own write at once: the commit deleted the key from the home tier', async () => {
    const id = nextId++;
    const key = `user:${id}:name`;
    const primaryName = async () => {
      const [rows] = await conn.query<RowDataPacket[]>('SELECT name FROM users WHERE id = ?', [id]);
      return String(rows[0]?.name);
    };
    expect(await getOrLoad(homeCache, key, primaryName, { ttl: 3600 })).toBe('old');
    await withInvalidation(
      conn,
      async (tx) => {
        await tx.query('UPDATE users SET name = ? WHERE id = ?', ['mine', id]);
        tx.dirty(key);
      },
      { ...writer, local: { client: homeCache } },
    );
    const stats = createReadThroughStats();
    expect(await getOrLoad(homeCache, key, primaryName, { ttl: 3600, stats })).toBe('mine');
    expect(stats).toMatchObject({ misses: 1, fills: 1 });
  });
});
