/**
 * Restart safety on real servers: the tailer process is killed with SIGKILL at random points, 20
 * times in a row, while annotated transactions stream through the primary. After the last restart every
 * key of every committed transaction must have been deleted (0 missed); repeated deletes are allowed
 * (at-least-once) and reported, counted by memcached itself (`delete_misses`: every key was set once
 * before its transaction, so a second delete of it misses).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import memjs from 'memjs';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { annotate } from '../../src/annotate/index.js';
import { clusterControl } from '../../src/devcluster/index.js';
import { memcachedStats } from '../helpers/memcached-stats.js';
import { spawnTailer, type TailerProcess } from '../helpers/tailer-process.js';
import { waitFor } from '../helpers/wait.js';

const info = inject('cluster');
const cluster = clusterControl(info);
const DB = 'crash';
const KILLS = 20;
const stateDir = mkdtempSync(join(tmpdir(), 'cachetail-crash-'));
const cache = memjs.Client.create(info.memcached.replica, { logger: { log: () => undefined } });

/** Deterministic jitter, so a failing schedule can be replayed (seed printed on failure). */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let current: TailerProcess | null = null;
function start(): TailerProcess {
  current = spawnTailer(info, { CACHETAIL_STATE_DIR: stateDir, CACHETAIL_SOURCE_SERVER_ID: '7900' });
  return current;
}

beforeAll(async () => {
  await cluster.query(
    'primary',
    `CREATE DATABASE IF NOT EXISTS ${DB};
     CREATE TABLE ${DB}.t (id INT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB;
     CREATE TABLE ${DB}.log (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(64)) ENGINE=InnoDB;`,
  );
  await cluster.waitForReplicaCatchUp();
});

afterAll(async () => {
  if (current && current.child.exitCode === null) {
    current.child.kill('SIGKILL');
    await current.exited;
  }
  cache.close();
  rmSync(stateDir, { recursive: true, force: true });
});

describe('tailer killed with SIGKILL 20 times', () => {
  it('deletes every key of every committed transaction (0 missed)', { timeout: 180_000 }, async () => {
    const seed = Number(process.env.CACHETAIL_CRASH_SEED ?? 20261121);
    const rand = prng(seed);
    const checkpoint = join(stateDir, 'checkpoint.json');
    const before = await memcachedStats(info.memcached.replica);

    start();
    // The first start has no checkpoint: it begins at the binlog's end, so write only after that.
    await waitFor('the first checkpoint', () => (existsSync(checkpoint) ? true : undefined), 30_000);

    const keys: string[] = [];
    let writing = true;
    const writer = (async () => {
      const conn = await cluster.connect('primary');
      try {
        for (let i = 0; writing; i++) {
          const a = `crash:${i}:a`;
          const b = `crash:${i}:b`;
          // Set before the write commits, so the tailer's delete always comes after the set.
          await cache.set(a, 'stale', {});
          await cache.set(b, 'stale', {});
          await conn.query('BEGIN');
          await conn.query(annotate(`REPLACE INTO ${DB}.t VALUES (?, ?)`, [a]), [i, i]);
          await conn.query(annotate(`INSERT INTO ${DB}.log (note) VALUES (?)`, [b]), [`txn ${i}`]);
          await conn.query('COMMIT');
          keys.push(a, b);
          await new Promise((r) => setTimeout(r, 2));
        }
      } finally {
        await conn.end();
      }
    })();

    const kills: number[] = [];
    try {
      for (let k = 0; k < KILLS; k++) {
        const proc = current as TailerProcess;
        // Kill mid-stream: once this process has checkpointed (it is connected and delivering), then
        // after a random delay — during a delivery, between deliveries, before or after a checkpoint.
        const since = Date.now();
        await waitFor(
          'the restarted tailer to checkpoint',
          () => {
            const cp = JSON.parse(readFileSync(checkpoint, 'utf8')) as { writtenAt: number };
            return cp.writtenAt > since ? true : undefined;
          },
          30_000,
        );
        await new Promise((r) => setTimeout(r, Math.floor(rand() * 600)));
        proc.child.kill('SIGKILL');
        expect(await proc.exited).toBe('SIGKILL');
        kills.push(keys.length);
        start();
      }
    } finally {
      writing = false;
      await writer;
    }
    await cluster.waitForReplicaCatchUp();

    const stillCached = async () => {
      const left: string[] = [];
      for (const key of keys) if ((await cache.get(key)).value) left.push(key);
      return left;
    };
    await waitFor(
      'every key to be deleted',
      async () => ((await stillCached()).length === 0 ? true : undefined),
      60_000,
      250,
    ).catch(async (err: Error) => {
      const left = await stillCached();
      throw new Error(
        `${err.message}: ${left.length} keys never deleted (seed ${seed}), e.g. ${left.slice(0, 5).join(', ')}\n` +
          `checkpoint: ${readFileSync(checkpoint, 'utf8')}\ntailer output:\n${current?.output() ?? ''}`,
      );
    });

    const after = await memcachedStats(info.memcached.replica);
    const hits = (after.delete_hits ?? 0) - (before.delete_hits ?? 0);
    const repeated = (after.delete_misses ?? 0) - (before.delete_misses ?? 0);
    console.log(
      `crash test (seed ${seed}): ${keys.length / 2} transactions, ${keys.length} keys, ${KILLS} SIGKILLs ` +
        `(at ${kills.join(', ')} keys written), 0 missed, ${repeated} repeated deletes`,
    );
    // Each key was set exactly once before its transaction: the first delete of each is a hit.
    expect(hits).toBe(keys.length);
    expect(keys.length).toBeGreaterThan(KILLS * 10);

    // A graceful stop after all that: SIGTERM drains, writes the checkpoint and exits 0.
    const last = current as TailerProcess;
    last.child.kill('SIGTERM');
    expect(await last.exited).toBe(0);
    const cp = JSON.parse(readFileSync(checkpoint, 'utf8')) as {
      gtid: string;
      file: string;
      position: number;
      server: { serverId: number };
    };
    // Everything the replica binlogged (MariaDB gtid_binlog_pos; MySQL gtid_executed, the complete set).
    expect(cp.gtid).toBe(await cluster.gtidState('replica'));
    // And exactly the binlog's end: the position after the last transaction's commit event (MariaDB
    // 11.4+ writes end_log_pos 0 inside a transaction group, so this is where a position bug would show).
    const [end] = await cluster.query<RowDataPacket[]>('replica', cluster.driver.sql.binlogStatus);
    expect({ file: cp.file, position: cp.position }).toEqual({
      file: end?.File,
      position: Number(end?.Position),
    });
    expect(cp.server.serverId).toBe(info.replica.serverId);
  });
});
