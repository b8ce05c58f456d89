/**
 * The tailer (`cachetail tail` as a process) on a private pair of the run's server line, through binlog
 * rotation, a replica restart, and a purged position — which must never be passed silently: fail closed
 * (not ready, /status says why, keys left for the edge to route around) or, by policy, flush the tier.
 * On MySQL the tailer resumes by its complete GTID set (COM_BINLOG_DUMP_GTID): a purged position is the
 * server's 1236 naming the transactions it no longer has — exactly the writes made while it was down.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import memjs from 'memjs';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { annotate } from '../../src/annotate/index.js';
import { lastWriteGtid, trackWriteGtids } from '../../src/app/gtid.js';
import { GtidState } from '../../src/binlog/index.js';
import { createExtraServers, type ExtraPair, type ExtraServers } from '../../src/devcluster/index.js';
import { freePort } from '../../src/devcluster/proc.js';
import { spawnTailer, type TailerProcess } from '../helpers/tailer-process.js';
import { memcachedStats } from '../helpers/memcached-stats.js';
import { waitFor } from '../helpers/wait.js';

const info = inject('cluster');
const cache = memjs.Client.create(info.memcached.replica, { logger: { log: () => undefined } });
let extras: ExtraServers;
let pair: ExtraPair;
let seq = 0;

interface Running {
  proc: TailerProcess;
  metrics: () => Promise<string>;
  port: number;
  status: () => Promise<{ code: number; body: Record<string, unknown> }>;
  ready: () => Promise<{ code: number; body: Record<string, unknown> }>;
  stateDir: string;
}

async function get(url: string): Promise<{ code: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { code: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function startTailer(stateDir: string, env: Record<string, string> = {}): Promise<Running> {
  const port = await freePort();
  const proc = spawnTailer(info, {
    CACHETAIL_SOURCE_HOST: pair.replica.host,
    CACHETAIL_SOURCE_PORT: String(pair.replica.port),
    CACHETAIL_SOURCE_USER: pair.tailerUser.user,
    CACHETAIL_SOURCE_PASSWORD: pair.tailerUser.password,
    CACHETAIL_SOURCE_SERVER_ID: '7950',
    CACHETAIL_SOURCE_HEARTBEAT_MS: '500',
    CACHETAIL_SOURCE_LIVENESS_TIMEOUT_MS: '3000',
    CACHETAIL_SOURCE_CONNECT_TIMEOUT_MS: '2000',
    CACHETAIL_STATE_DIR: stateDir,
    CACHETAIL_STATUS_PORT: String(port),
    ...env,
  });
  const base = `http://127.0.0.1:${port}`;
  const r: Running = {
    proc,
    stateDir,
    status: () => get(`${base}/status`),
    ready: () => get(`${base}/readyz`),
    metrics: async () => (await fetch(`${base}/metrics`)).text(),
    port,
  };
  await waitFor('the status server', () => r.status().then(() => true), 30_000).catch((e: Error) => {
    throw new Error(`${e.message}\n${proc.output()}`);
  });
  return r;
}

/** The GTID the primary gave each key's write. */
const gtidOf = new Map<string, string>();

/** Annotated single-statement writes on the pair's primary; each key is cached as stale first. */
async function write(n: number, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  const conn = await pair.connect('primary');
  try {
    await trackWriteGtids(conn);
    for (let i = 0; i < n; i++) {
      const key = `${prefix}:${seq++}`;
      await cache.set(key, 'stale', {});
      const [result] = await conn.query(annotate('INSERT INTO f.t (k) VALUES (?)', [key]), [key]);
      gtidOf.set(key, await lastWriteGtid(conn, result));
      keys.push(key);
    }
  } finally {
    await conn.end();
  }
  return keys;
}

async function cachedKeys(keys: string[]): Promise<string[]> {
  const left: string[] = [];
  for (const k of keys) if ((await cache.get(k)).value) left.push(k);
  return left;
}

const allDeleted = (keys: string[], what: string) =>
  waitFor(what, async () => ((await cachedKeys(keys)).length === 0 ? true : undefined), 30_000, 100);

/** While no tailer runs: annotated writes replicate, then the replica purges the binlog holding them. */
async function writeThenPurge(prefix: string): Promise<string[]> {
  const lost = await write(5, prefix);
  await pair.waitForReplicaCatchUp();
  await pair.query('replica', 'FLUSH BINARY LOGS');
  const [master] = await pair.query<RowDataPacket[]>('replica', extras.driver.sql.binlogStatus);
  const current = String(master?.File);
  // MariaDB silently keeps a file InnoDB may still need for crash recovery (its binlog checkpoint
  // lags on this dev box, flush_log_at_trx_commit=2): purge until the old files are really gone.
  // (MySQL purges at once; the loop then ends on its first round.)
  await waitFor(
    'the old binlogs to be purged',
    async () => {
      await pair.query('replica', `PURGE BINARY LOGS TO '${current}'`);
      const logs = await pair.query<RowDataPacket[]>('replica', 'SHOW BINARY LOGS');
      return logs.every((l) => l.Log_name === current) ? true : undefined;
    },
    20_000,
    300,
  );
  return lost;
}

beforeAll(async () => {
  extras = await createExtraServers({ template: info.server.template, line: info.server.line });
  pair = await extras.startPair({ name: 'fail' });
  await pair.query(
    'primary',
    'CREATE DATABASE f; CREATE TABLE f.t (id INT AUTO_INCREMENT PRIMARY KEY, k VARCHAR(64)) ENGINE=InnoDB',
  );
  await pair.waitForReplicaCatchUp();
});

afterAll(async () => {
  cache.close();
  await extras?.stop();
});

describe('tailer under failures', () => {
  let t: Running;
  const stateDir = mkdtempSync(join(tmpdir(), 'cachetail-fail-'));

  beforeAll(async () => {
    t = await startTailer(stateDir);
    await waitFor('ready', async () => ((await t.ready()).code === 200 ? true : undefined), 30_000);
  });
  afterAll(async () => {
    if (t.proc.child.exitCode === null) {
      t.proc.child.kill('SIGKILL');
      await t.proc.exited;
    }
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('follows binlog rotation and checkpoints in the new file', async () => {
    const before = await write(10, 'rot');
    await pair.query('replica', 'FLUSH BINARY LOGS');
    const after = await write(10, 'rot');
    await allDeleted([...before, ...after], 'keys around the rotation to be deleted');
    // Every one of the 20 keys was cached, so memcached found each: 20 "deleted", none "not_found".
    const metrics = await t.metrics();
    expect(metrics).toContain('cachetail_keys_invalidated_total{result="deleted"} 20');
    expect(metrics).toContain('cachetail_keys_invalidated_total{result="not_found"} 0');
    // The read-only dashboard on the tailer's status server: the page, and no scenario to play.
    const page = await fetch(`http://127.0.0.1:${t.port}/dashboard/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const play = await fetch(`http://127.0.0.1:${t.port}/dashboard/api/scenario`, { method: 'POST' });
    expect(play.status).toBe(404);
    const [master] = await pair.query<RowDataPacket[]>('replica', extras.driver.sql.binlogStatus);
    await waitFor('the checkpoint to move into the new file', () => {
      const cp = JSON.parse(readFileSync(join(stateDir, 'checkpoint.json'), 'utf8')) as { file: string };
      return cp.file === master?.File ? true : undefined;
    });
  });

  it('survives a replica restart, deleting what was written while it was down', async () => {
    const before = await write(5, 'restart');
    const restarting = extras.restartServer('fail-replica', { downMs: 2_000 });
    const during = await write(10, 'restart');
    await restarting;
    await pair.waitForReplicaCatchUp();
    await allDeleted([...before, ...during], 'keys written across the replica restart to be deleted');
    const { body } = await t.status();
    expect(body.state).toBe('streaming');
    expect((body.stats as { reconnects: number }).reconnects).toBeGreaterThanOrEqual(1);
    expect((await t.ready()).code).toBe(200);
  });

  it('notices a silent replica (no FIN, no heartbeat), reports not ready, and resumes when it wakes', async () => {
    const pid = extras.pids().get('fail-replica') as number;
    const before = ((await t.status()).body.stats as { reconnects: number }).reconnects;
    process.kill(pid, 'SIGSTOP');
    try {
      const during = await write(5, 'frozen');
      // The edge fails safe on this: the tailer cannot vouch for the region while the link is dead.
      await waitFor('not ready while the replica is silent', async () => {
        const r = await t.ready();
        return r.code === 503 ? r : undefined;
      });
      expect(await cachedKeys(during)).toEqual(during);
      process.kill(pid, 'SIGCONT');
      await pair.waitForReplicaCatchUp();
      await allDeleted(during, 'keys written while the replica was frozen to be deleted');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await waitFor('ready again', async () => ((await t.ready()).code === 200 ? true : undefined));
    const { body } = await t.status();
    expect((body.stats as { reconnects: number }).reconnects).toBeGreaterThan(before);
  });

  it('fails closed when its position was purged: not ready, says why, deletes nothing, stays up', async () => {
    t.proc.child.kill('SIGTERM');
    expect(await t.proc.exited).toBe(0);
    const lost = await writeThenPurge('purged');

    t = await startTailer(stateDir);
    await waitFor('not ready on the gap', async () => {
      const r = await t.ready();
      return r.code === 503 && r.body.reason === 'gap' ? r : undefined;
    }).catch(async (e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify((await t.status()).body)}\n${t.proc.output()}`);
    });
    const { body } = await t.status();
    expect(body.state).toBe('failed');
    expect(body.ready).toBe(false);
    expect((body.gap as { code: string; policy: string }).code).toBe('BINLOG_UNAVAILABLE');
    expect((body.gap as { policy: string }).policy).toBe('fail-closed');
    const message = (body.lastError as { message: string }).message;
    expect(message).toMatch(/1236/);
    if (info.server.flavor === 'mysql') {
      // MySQL with GTID auto-positioning: the tailer sent its complete GTID set, and the server names
      // what was purged from under it — exactly the writes made while it was down.
      const missing = lost.reduce((s, k) => s.add(gtidOf.get(k) as string), GtidState.empty('mysql'));
      expect(message).toContain(`the missing transactions are '${missing.toString()}'`);
    } else {
      // MariaDB resumes from its GTID position, which no remaining binlog file starts at or before.
      expect(message).toContain('required binlog files have been purged');
    }
    // Nothing was invalidated past the gap, and the process is still there serving status.
    expect(await cachedKeys(lost)).toEqual(lost);
    expect(t.proc.child.exitCode).toBeNull();
    t.proc.child.kill('SIGTERM');
    expect(await t.proc.exited).toBe(0);
  });

  it('with gapPolicy=flush: empties the regional tier, says so, and continues from the end', async () => {
    const lost = await writeThenPurge('flushed');
    const flushesBefore = (await memcachedStats(info.memcached.replica)).cmd_flush ?? 0;
    t = await startTailer(stateDir, { CACHETAIL_GAP_POLICY: 'flush' });
    await waitFor('ready after the flush', async () => ((await t.ready()).code === 200 ? true : undefined));
    expect((await memcachedStats(info.memcached.replica)).cmd_flush).toBe(flushesBefore + 1);
    expect(await cachedKeys(lost)).toEqual([]);
    const { body } = await t.status();
    expect((body.stats as { gaps: number }).gaps).toBe(1);
    expect(body.gap).toBeNull();
    const after = await write(5, 'after-flush');
    await allDeleted(after, 'writes after the flush to be deleted');
    expect(t.proc.output()).toContain('gap: flushing the regional cache tier');
    t.proc.child.kill('SIGTERM');
    expect(await t.proc.exited).toBe(0);
  });
});
