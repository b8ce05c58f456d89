/**
 * Operations on the tailer's replica that change what its binlog is (issue #18 items 2 and 4), with
 * `cachetail tail` as a process on a private pair of the run's line plus a second replica of the same
 * primary:
 *  - RESET MASTER (MariaDB) / RESET BINARY LOGS AND GTIDS (MySQL) without the GTID state restored: the
 *    transactions between the checkpoint and the reset are in no binlog. The tailer waits while the
 *    replica has not got to its checkpoint (REPLICA_BEHIND), and the next write shows the hole: a gap
 *    naming the missing GTID numbers, nothing deleted.
 *  - the same with the GTID state restored (gtid_binlog_state / gtid_purged): while the tailer streams,
 *    nothing is skipped; with transactions it had not read inside the restored state, the server's 1236.
 *  - the state dir moved to the other replica: resumed by GTID, 0 skipped, the checkpoint then names
 *    the other server; moved to one whose binlog was purged past the checkpoint: the gap, with why.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import memjs from 'memjs';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { annotate } from '../../src/annotate/index.js';
import { lastWriteGtid, trackWriteGtids } from '../../src/app/gtid.js';
import { createExtraServers, type ExtraPair, type ExtraServers } from '../../src/devcluster/index.js';
import { freePort } from '../../src/devcluster/proc.js';
import type { ServerEndpoint } from '../../src/devcluster/sql.js';
import { withConnection, ROOT } from '../../src/devcluster/sql.js';
import { spawnTailer, type TailerProcess } from '../helpers/tailer-process.js';
import { waitFor } from '../helpers/wait.js';

const info = inject('cluster');
const mysql = info.server.flavor === 'mysql';
const cache = memjs.Client.create(info.memcached.replica, { logger: { log: () => undefined } });
let extras: ExtraServers;
let pair: ExtraPair;
let other: ServerEndpoint;
let seq = 0;
const OTHER_ID = 131;

type Body = Record<string, unknown> & {
  state?: string;
  gap?: { code: string; policy: string } | null;
  lastError?: { code: string; message: string } | null;
  stats?: { gaps: number; reconnects: number };
};

interface Running {
  proc: TailerProcess;
  status: () => Promise<Body>;
  ready: () => Promise<{ code: number; body: Body }>;
  stop: () => Promise<void>;
}

const stateDirs: string[] = [];
const running: Running[] = [];

function newStateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cachetail-ops-'));
  stateDirs.push(dir);
  return dir;
}

async function startTailer(replica: ServerEndpoint, stateDir: string): Promise<Running> {
  const port = await freePort();
  const proc = spawnTailer(info, {
    CACHETAIL_SOURCE_HOST: replica.host,
    CACHETAIL_SOURCE_PORT: String(replica.port),
    CACHETAIL_SOURCE_USER: pair.tailerUser.user,
    CACHETAIL_SOURCE_PASSWORD: pair.tailerUser.password,
    CACHETAIL_SOURCE_SERVER_ID: '7960',
    CACHETAIL_SOURCE_HEARTBEAT_MS: '500',
    CACHETAIL_SOURCE_CONNECT_TIMEOUT_MS: '2000',
    CACHETAIL_STATE_DIR: stateDir,
    CACHETAIL_STATUS_PORT: String(port),
  });
  const base = `http://127.0.0.1:${port}`;
  const get = async (path: string) => {
    const res = await fetch(`${base}${path}`);
    return { code: res.status, body: (await res.json()) as Body };
  };
  const r: Running = {
    proc,
    status: async () => (await get('/status')).body,
    ready: () => get('/readyz'),
    stop: async () => {
      if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
    },
  };
  running.push(r);
  await waitFor('the status server', () => r.status().then(() => true), 30_000).catch((e: Error) => {
    throw new Error(`${e.message}\n${proc.output()}`);
  });
  return r;
}

async function waitReady(t: Running): Promise<void> {
  await waitFor('ready', async () => ((await t.ready()).code === 200 ? true : undefined), 30_000).catch(
    async (e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify(await t.status())}\n${t.proc.output()}`);
    },
  );
}

/** Waits for the fail-closed gap; returns /status then. */
async function waitGap(t: Running): Promise<Body> {
  await waitFor('not ready on the gap', async () => {
    const r = await t.ready();
    return r.code === 503 && r.body.reason === 'gap' ? true : undefined;
  }).catch(async (e: Error) => {
    throw new Error(`${e.message}: ${JSON.stringify(await t.status())}\n${t.proc.output()}`);
  });
  return t.status();
}

/** The GTID number each key's write got on the primary (MySQL gno, MariaDB seq_no). */
const numberOf = new Map<string, bigint>();

/** Annotated writes on the pair's primary, each key cached as stale first; waits for both replicas. */
async function write(n: number, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let gtid = '';
  const conn = await pair.connect('primary');
  try {
    await trackWriteGtids(conn);
    for (let i = 0; i < n; i++) {
      const key = `${prefix}:${seq++}`;
      await cache.set(key, 'stale', {});
      const [result] = await conn.query(annotate('INSERT INTO o.t (k) VALUES (?)', [key]), [key]);
      gtid = await lastWriteGtid(conn, result);
      numberOf.set(key, BigInt(gtid.split(/[:-]/).at(-1) as string));
      keys.push(key);
    }
  } finally {
    await conn.end();
  }
  await applied(pair.replica, gtid);
  await applied(other, gtid);
  return keys;
}

/**
 * Waits until `server` applied the write `gtid` (and, replication being in order, all before it). Not
 * the driver's catch-up, which compares with the primary's whole history: a replica reset without it
 * restored never "catches up" with that.
 */
async function applied(server: ServerEndpoint, gtid: string): Promise<void> {
  const wait = mysql
    ? 'SELECT WAIT_FOR_EXECUTED_GTID_SET(?, 30) AS r'
    : 'SELECT MASTER_GTID_WAIT(?, 30) AS r';
  const [row] = await on(server, (q) => q(wait, [gtid]));
  if (Number(row?.r) !== 0) throw new Error(`${server.port} did not apply ${gtid} within 30 s`);
}

const num = (key: string): bigint => numberOf.get(key) as bigint;

async function cachedKeys(keys: string[]): Promise<string[]> {
  const left: string[] = [];
  for (const k of keys) if ((await cache.get(k)).value) left.push(k);
  return left;
}

const allDeleted = (keys: string[], what: string) =>
  waitFor(what, async () => ((await cachedKeys(keys)).length === 0 ? true : undefined), 30_000, 100);

async function on<T>(
  server: ServerEndpoint,
  fn: (q: (sql: string, p?: unknown[]) => Promise<RowDataPacket[]>) => Promise<T>,
) {
  return withConnection(server, ROOT, (conn) =>
    fn(async (sql, p = []) => (await conn.query<RowDataPacket[]>(sql, p))[0]),
  );
}

/** The statement that empties the binlog and the GTID history it records, by flavor. */
const RESET = mysql ? 'RESET BINARY LOGS AND GTIDS' : 'RESET MASTER';

/** The replica's GTID history, as the state variable that is restored after a reset. */
const HISTORY = mysql ? '@@global.gtid_executed' : '@@global.gtid_binlog_state';

/**
 * What an operator does to reset a replica's binlog and keep its GTID history: replication stopped so
 * that nothing is written in between, the history read, the reset, the history restored (MySQL
 * gtid_purged, MariaDB gtid_binlog_state), replication started.
 */
async function resetKeepingGtids(server: ServerEndpoint): Promise<void> {
  await on(server, async (q) => {
    await q(extras.driver.sql.stopReplica);
    const [row] = await q(`SELECT ${HISTORY} AS h`);
    const history = String(row?.h ?? '').replace(/\s+/g, '');
    await q(RESET);
    await q(`SET GLOBAL ${mysql ? 'gtid_purged' : 'gtid_binlog_state'} = ?`, [history]);
    await q(extras.driver.sql.startReplica);
  });
}

/**
 * After a MySQL reset without the history restored the replica's IO thread, at its next reconnect,
 * would ask the primary for everything again: restore the history it really has (the primary's, once
 * caught up), so that the next tests start from a sound replica. MariaDB keeps gtid_slave_pos apart.
 */
async function repairAfterBareReset(server: ServerEndpoint): Promise<void> {
  if (!mysql) return;
  const [row] = await pair.query('primary', 'SELECT @@global.gtid_executed AS h');
  await on(server, async (q) => {
    await q(extras.driver.sql.stopReplica);
    await q(RESET);
    await q('SET GLOBAL gtid_purged = ?', [String(row?.h ?? '').replace(/\s+/g, '')]);
    await q(extras.driver.sql.startReplica);
  });
}

/** The source the GTID numbers are counted in: the primary's server_uuid, or MariaDB's domain 0. */
async function source(): Promise<string> {
  if (!mysql) return 'domain 0';
  const [row] = await pair.query('primary', 'SELECT @@server_uuid AS u');
  return String(row?.u);
}

/** Purges every binlog file of `server` but the current one (loop: MariaDB may keep one a while). */
async function purgeAllButCurrent(server: ServerEndpoint): Promise<void> {
  await on(server, async (q) => {
    await q('FLUSH BINARY LOGS');
    const [status] = await q(extras.driver.sql.binlogStatus);
    const current = String(status?.File);
    await waitFor(
      'the old binlogs to be purged',
      async () => {
        await q(`PURGE BINARY LOGS TO '${current}'`);
        const logs = await q('SHOW BINARY LOGS');
        return logs.every((l) => l.Log_name === current) ? true : undefined;
      },
      20_000,
      300,
    );
  });
}

const checkpointServer = (stateDir: string): { serverId: number } =>
  (JSON.parse(readFileSync(join(stateDir, 'checkpoint.json'), 'utf8')) as { server: { serverId: number } })
    .server;

beforeAll(async () => {
  extras = await createExtraServers({ template: info.server.template, line: info.server.line });
  pair = await extras.startPair({ name: 'ops' });
  await pair.query(
    'primary',
    'CREATE DATABASE o; CREATE TABLE o.t (id INT AUTO_INCREMENT PRIMARY KEY, k VARCHAR(64)) ENGINE=InnoDB',
  );
  other = await extras.startReplicaOf(pair.primary, { name: 'ops-other', serverId: OTHER_ID });
  await pair.waitForReplicaCatchUp();
});

afterEach(async () => {
  for (const r of running.splice(0)) {
    if (r.proc.child.exitCode === null && r.proc.child.signalCode === null) {
      r.proc.child.kill('SIGKILL');
      await r.proc.exited;
    }
  }
});

afterAll(async () => {
  cache.close();
  for (const d of stateDirs) rmSync(d, { recursive: true, force: true });
  await extras?.stop();
});

describe(`${RESET} on the tailer's replica`, () => {
  it('without the GTID state restored: waits while the replica is behind, then the gap names the lost transactions', async () => {
    const stateDir = newStateDir();
    let t = await startTailer(pair.replica, stateDir);
    await waitReady(t);
    const read = await write(2, 'bare-read');
    await allDeleted(read, 'the keys before the reset to be deleted');
    await t.stop();

    const lost = await write(3, 'bare-lost');
    await pair.query('replica', RESET);
    t = await startTailer(pair.replica, stateDir);
    // Nothing written since the reset: the replica has not got to the checkpoint, the tailer waits.
    await waitFor('REPLICA_BEHIND in /status', async () => {
      const s = await t.status();
      return s.lastError?.code === 'REPLICA_BEHIND' ? s : undefined;
    });
    expect((await t.ready()).code).toBe(503);
    const after = await write(2, 'bare-after');

    const s = await waitGap(t);
    const last = num(read[1]);
    expect(s.state).toBe('failed');
    expect(s.gap).toMatchObject({ code: 'BINLOG_UNAVAILABLE', policy: 'fail-closed' });
    expect(s.lastError?.message).toBe(
      `the replica's history does not join on to the resume point: in ${await source()} the tailer ` +
        `read up to ${last} and the replica's next transaction there is ${num(after[0])}, so ` +
        `transactions ${last + 1n}-${num(lost[2])} are in no binlog it has (a RESET MASTER / ` +
        `RESET BINARY LOGS AND GTIDS without the GTID state restored, or a replica whose binlog began ` +
        `later): a gap`,
    );
    // Fail closed: nothing past the checkpoint was deleted, the lost ones nor the ones after them.
    expect(await cachedKeys([...lost, ...after])).toEqual([...lost, ...after]);
    expect(t.proc.child.exitCode).toBeNull();
    await t.stop();
    await repairAfterBareReset(pair.replica);
  });

  it('with the GTID state restored while the tailer streams: nothing skipped, no gap', async () => {
    const t = await startTailer(pair.replica, newStateDir());
    await waitReady(t);
    const before = await write(3, 'kept-before');
    await allDeleted(before, 'the keys before the reset to be deleted');
    await resetKeepingGtids(pair.replica);
    const after = await write(3, 'kept-after');
    await allDeleted(after, 'the keys after the reset to be deleted').catch(async (e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify(await t.status())}\n${t.proc.output()}`);
    });
    await waitReady(t);
    const s = await t.status();
    expect(s.state).toBe('streaming');
    expect(s.gap).toBeNull();
    expect(s.stats?.gaps).toBe(0);
    // The dump thread stayed on the removed file, sending heartbeats only: the tailer ended that stream.
    expect(s.stats?.reconnects).toBe(1);
    expect(t.proc.output()).toContain('REPLICATION_STALLED');
  });

  it('with the GTID state restored past transactions the tailer had not read: the server’s 1236 gap', async () => {
    const stateDir = newStateDir();
    let t = await startTailer(pair.replica, stateDir);
    await waitReady(t);
    const read = await write(1, 'past-read');
    await allDeleted(read, 'the key before the reset to be deleted');
    await t.stop();
    const lost = await write(3, 'past-lost');
    await resetKeepingGtids(pair.replica);
    const after = await write(1, 'past-after');

    t = await startTailer(pair.replica, stateDir);
    const s = await waitGap(t);
    expect(s.gap).toMatchObject({ code: 'BINLOG_UNAVAILABLE', policy: 'fail-closed' });
    const message = s.lastError?.message ?? '';
    expect(message).toMatch(/server error 1236/);
    if (mysql) {
      const first = num(lost[0]);
      const last = num(lost[2]);
      expect(message).toContain(`the missing transactions are '${await source()}:${first}-${last}'`);
    } else {
      expect(message).toContain('required binlog files have been purged');
    }
    expect(await cachedKeys([...lost, ...after])).toEqual([...lost, ...after]);
    await t.stop();
  });
});

describe('the state dir moved to another replica of the same primary', () => {
  const stateDir = newStateDir();

  it('resumes by GTID on the other replica: the writes since the checkpoint all deleted, the checkpoint names it', async () => {
    let t = await startTailer(pair.replica, stateDir);
    await waitReady(t);
    const read = await write(2, 'move-read');
    await allDeleted(read, 'the keys before the move to be deleted');
    await t.stop();
    expect(checkpointServer(stateDir).serverId).toBe(pair.replica.serverId);

    const moved = await write(3, 'move-since');
    t = await startTailer(other, stateDir);
    await allDeleted(moved, 'the keys written since the checkpoint to be deleted through the other replica');
    await waitReady(t);
    const s = await t.status();
    expect(s.gap).toBeNull();
    expect(s.stats?.gaps).toBe(0);
    await t.stop();
    // The server identity is checked and recorded: positions from now on are the other replica's.
    expect(checkpointServer(stateDir).serverId).toBe(OTHER_ID);
  });

  it('moved back to a replica whose binlog was purged past the checkpoint: the gap, nothing deleted', async () => {
    const lost = await write(3, 'move-lost');
    await purgeAllButCurrent(pair.replica);
    const t = await startTailer(pair.replica, stateDir);
    const s = await waitGap(t);
    expect(s.gap).toMatchObject({ code: 'BINLOG_UNAVAILABLE', policy: 'fail-closed' });
    const message = s.lastError?.message ?? '';
    expect(message).toMatch(/server error 1236/);
    if (mysql) {
      const first = num(lost[0]);
      const last = num(lost[2]);
      expect(message).toContain(`the missing transactions are '${await source()}:${first}-${last}'`);
    } else {
      expect(message).toContain('required binlog files have been purged');
    }
    expect(await cachedKeys(lost)).toEqual(lost);
    await t.stop();
  });
});
