/**
 * The scenario from Facebook's 2008 write-up, on real servers: user jsobel renames "Jason" → "Monkey"
 * on the primary while the replica lags; a reader in the replica region misses the cache, reads "Jason"
 * from the replica and fills its cache. Without cachetail the stale name is trapped in the replica
 * region's cache; with the tailer the key is deleted only after the replica committed the rename.
 */
import memjs from 'memjs';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { annotate } from '../../src/annotate/index.js';
import { lastWriteGtid, trackWriteGtids } from '../../src/app/gtid.js';
import { clusterControl } from '../../src/devcluster/index.js';
import { RecordingSink } from '../helpers/recording-sink.js';
import { startTailer } from '../helpers/tailer.js';
import { waitFor } from '../helpers/wait.js';

const info = inject('cluster');
const cluster = clusterControl(info);
const DB = 'jm';
/** The replica region's cache tier, as that region's app servers use it. */
const regionCache = memjs.Client.create(info.memcached.replica, { logger: { log: () => undefined } });

async function cached(key: string): Promise<string | undefined> {
  const { value } = await regionCache.get(key);
  return value ? value.toString() : undefined;
}

async function replicaName(id: number): Promise<string> {
  const rows = await cluster.query<RowDataPacket[]>('replica', `SELECT name FROM ${DB}.users WHERE id = ?`, [
    id,
  ]);
  return String(rows[0]?.name);
}

/** The app's read path in the replica region: cache, else the local replica, then fill the cache. */
async function readThrough(key: string, id: number): Promise<string> {
  const hit = await cached(key);
  if (hit !== undefined) return hit;
  const name = await replicaName(id);
  await regionCache.set(key, name, { expires: 3600 });
  return name;
}

/**
 * A write in the master region: an annotated UPDATE through mysql2 (drivers keep comments). Returns the
 * GTID the primary gave it (the writer's own, on both flavors: src/app/gtid.ts).
 */
async function rename(id: number, name: string, key: string): Promise<string> {
  const conn = await cluster.connect('primary');
  try {
    await trackWriteGtids(conn);
    const [result] = await conn.query(annotate(`UPDATE ${DB}.users SET name = ? WHERE id = ?`, [key]), [
      name,
      id,
    ]);
    const gtid = await lastWriteGtid(conn, result);
    expect(gtid).not.toBe('');
    return gtid;
  } finally {
    await conn.end();
  }
}

/**
 * Proof that the replica has fetched the write into its relay log but not applied it (MariaDB
 * Gtid_IO_Pos vs @@gtid_slave_pos; MySQL Retrieved_Gtid_Set vs @@gtid_executed).
 */
async function replicaHasFetchedButNotApplied(gtid: string): Promise<string> {
  await cluster.waitForFetchedNotApplied(gtid);
  return gtid;
}

beforeAll(async () => {
  await cluster.query(
    'primary',
    `CREATE DATABASE IF NOT EXISTS ${DB};
     CREATE TABLE ${DB}.users (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL) ENGINE=InnoDB;
     CREATE TABLE ${DB}.notes (id INT AUTO_INCREMENT PRIMARY KEY, body TEXT) ENGINE=InnoDB;
     INSERT INTO ${DB}.users VALUES (1, 'Jason'), (2, 'Jason'), (3, 'a0'), (4, 'b0');`,
  );
  await cluster.waitForReplicaCatchUp();
});

afterAll(async () => {
  await cluster.startReplicaSql();
  regionCache.close();
});

describe('without cachetail', () => {
  it('traps "Jason" in the replica region cache', async () => {
    await cluster.stopReplicaSql();
    try {
      await replicaHasFetchedButNotApplied(await rename(1, 'Monkey', 'jm:user:1:name'));
      expect(await readThrough('jm:user:1:name', 1)).toBe('Jason');
    } finally {
      await cluster.startReplicaSql();
    }
    await cluster.waitForReplicaCatchUp();
    expect(await replicaName(1)).toBe('Monkey');
    // Replication caught up, but nothing deleted the key: the old name stays until the TTL.
    expect(await readThrough('jm:user:1:name', 1)).toBe('Jason');
  });
});

describe('with the tailer', () => {
  let t: Awaited<ReturnType<typeof startTailer<RecordingSink>>>;

  beforeAll(async () => {
    // The probe runs as each batch reaches the sink: what the replica serves for user 2 at that moment.
    t = await startTailer(info, (inner) => new RecordingSink(inner, () => replicaName(2)));
  });
  afterAll(async () => {
    await t?.stop();
  });

  /** A plain annotated write whose delivery shows that the tailer has read everything before it. */
  async function barrier(name: string): Promise<void> {
    await cluster.query('primary', annotate(`INSERT INTO ${DB}.notes (body) VALUES (?)`, [name]), [name]);
    await waitFor(`barrier ${name} to be delivered`, () => (t.sink.keys.includes(name) ? true : undefined));
  }

  it('deletes the key only after the replica committed the rename; the next read gets "Monkey"', async () => {
    await cluster.stopReplicaSql();
    try {
      const gtid = await replicaHasFetchedButNotApplied(await rename(2, 'Monkey', 'jm:user:2:name'));
      expect(await readThrough('jm:user:2:name', 2)).toBe('Jason');
      // The tailer reads the replica's own binlog: the rename is not there until the replica applies it.
      await new Promise((r) => setTimeout(r, 1_000));
      expect(t.sink.keys).not.toContain('jm:user:2:name');
      expect(await cached('jm:user:2:name')).toBe('Jason');

      await cluster.startReplicaSql();
      await waitFor('the stale name to be deleted', async () =>
        (await cached('jm:user:2:name')) === undefined ? true : undefined,
      );
      const delivery = t.sink.deliveries.find((d) => d.keys.includes('jm:user:2:name'));
      expect(delivery?.keys).toEqual(['jm:user:2:name']);
      expect(delivery?.gtids).toEqual([gtid]);
      expect(delivery?.observed).toBe('Monkey');
    } finally {
      await cluster.startReplicaSql();
    }
    expect(await readThrough('jm:user:2:name', 2)).toBe('Monkey');
  });

  it('deletes every key of a multi-statement transaction, only after its commit', async () => {
    for (const k of ['jm:user:3:name', 'jm:user:4:name', 'jm:team:9']) await regionCache.set(k, 'stale', {});
    const conn = await cluster.connect('primary');
    try {
      await trackWriteGtids(conn);
      await conn.query('BEGIN');
      await conn.query(annotate(`UPDATE ${DB}.users SET name = 'a1' WHERE id = 3`, ['jm:user:3:name']));
      await barrier('barrier:mid-transaction');
      expect(t.sink.keys).not.toContain('jm:user:3:name');
      expect(await cached('jm:user:3:name')).toBe('stale');
      await conn.query(
        annotate(`UPDATE ${DB}.users SET name = 'b1' WHERE id = 4`, ['jm:user:4:name', 'jm:team:9']),
      );
      const [committed] = await conn.query('COMMIT');
      const gtid = await lastWriteGtid(conn, committed);
      expect(gtid).not.toBe('');
      await waitFor('the transaction to be delivered', () =>
        t.sink.transactions.find((x) => x.gtid === gtid),
      );
      expect(t.sink.transactions.find((x) => x.gtid === gtid)?.keys).toEqual([
        'jm:user:3:name',
        'jm:user:4:name',
        'jm:team:9',
      ]);
      expect(await cached('jm:user:3:name')).toBeUndefined();
      expect(await cached('jm:user:4:name')).toBeUndefined();
      expect(await cached('jm:team:9')).toBeUndefined();
    } finally {
      await conn.end();
    }
  });

  it('a string literal that looks like an annotation deletes nothing', async () => {
    await regionCache.set('jm:admin:1', 'keep me', {});
    await cluster.query(
      'primary',
      `INSERT INTO ${DB}.notes (body) VALUES ('/* MEMCACHE_DIRTY jm:admin:1 */')`,
    );
    await barrier('barrier:after-literal');
    expect(t.sink.keys).not.toContain('jm:admin:1');
    expect(await cached('jm:admin:1')).toBe('keep me');
  });
});
