/**
 * A primary switchover and a failover under a running tailer (issue #18 item 3), on three servers of
 * the run's line: P (primary), R1 (the tailer's replica) and R2 (a second replica of P).
 *
 *  - Switchover: writes stop on P, R1 and R2 catch up, R2 is promoted (on MariaDB with a GTID domain of
 *    its own, 1; on MySQL its writes carry its own server_uuid), writes go on on R2, then R1 and P are
 *    re-pointed to R2 by GTID auto-positioning.
 *  - Failover: R2, now the primary, is SIGKILLed; P (R2's replica since the switchover, caught up) is
 *    promoted — on MariaDB back in domain 0, where its sequence numbers continue — and R1 re-pointed.
 *  - A tailer down while a new source appears in R1's binlog (MariaDB: a new domain, with a binlog
 *    rotation after it) resumes from a checkpoint that does not know that source.
 *
 * The tailer reads R1's binlog and is never re-pointed itself. Every annotated key written before,
 * during (on the new primary while R1 still followed the old one) and after is deleted, with no gap;
 * the watermark ends equal to R1's GTID state, which holds the new primary's GTIDs; and the edge's
 * routing (cookie → policy against the tailer's real /status) pins a write of the new primary while
 * R1 has not got it and unpins it once the watermark covers it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import memjs from 'memjs';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { annotate } from '../../src/annotate/index.js';
import { lastWriteGtid, trackWriteGtids } from '../../src/app/gtid.js';
import { parseGtidState } from '../../src/binlog/index.js';
import { createExtraServers, type ExtraPair, type ExtraServers } from '../../src/devcluster/index.js';
import { freePort, isAlive, sleep } from '../../src/devcluster/proc.js';
import { connect, ROOT, withConnection, type ServerEndpoint } from '../../src/devcluster/sql.js';
import { promoteToPrimary, repointReplica } from '../../src/devcluster/switchover.js';
import { signRecentWrite, verifyRecentWrite } from '../../src/edge/cookie.js';
import { KeyRing } from '../../src/edge/keys.js';
import { decide } from '../../src/edge/policy.js';
import { LocalWatermark } from '../../src/edge/watermark.js';
import { spawnTailer, type TailerProcess } from '../helpers/tailer-process.js';
import { waitFor } from '../helpers/wait.js';

const info = inject('cluster');
const flavor = info.server.flavor;
const cache = memjs.Client.create(info.memcached.replica, { logger: { log: () => undefined } });
const WINDOW_MS = 60_000;
/** Long enough for a delete to arrive if one (wrongly) came: the tailer delivers within milliseconds. */
const NO_DELETE_MS = 500;
const keys = KeyRing.parse([`k1:${'s'.repeat(32)}`], 'test');

let extras: ExtraServers;
let pair: ExtraPair;
let P: ServerEndpoint;
let R1: ServerEndpoint;
let R2: ServerEndpoint;
let tailer: TailerProcess;
let statusUrl: string;
let stateDir: string;
let seq = 0;
/** The GTID the writing primary gave each key's write. */
const gtidOf = new Map<string, string>();

interface Status {
  region: string;
  state: string;
  watermark: { gtid: string } | null;
  stats: { gaps: number; reconnects: number };
}

async function status(): Promise<Status> {
  return (await (await fetch(statusUrl)).json()) as Status;
}

/** Annotated single-statement writes on `server`; each key is cached as stale first. */
async function write(server: ServerEndpoint, n: number, prefix: string): Promise<string[]> {
  const written: string[] = [];
  const conn = await connect(server, ROOT);
  try {
    await trackWriteGtids(conn);
    for (let i = 0; i < n; i++) {
      const key = `${prefix}:${seq++}`;
      await cache.set(key, 'stale', {});
      const [result] = await conn.query(annotate('INSERT INTO s.t (k) VALUES (?)', [key]), [key]);
      gtidOf.set(key, await lastWriteGtid(conn, result));
      written.push(key);
    }
  } finally {
    await conn.end();
  }
  return written;
}

async function cachedKeys(list: readonly string[]): Promise<string[]> {
  const left: string[] = [];
  for (const k of list) if ((await cache.get(k)).value) left.push(k);
  return left;
}

const allDeleted = (list: readonly string[], what: string) =>
  waitFor(what, async () => ((await cachedKeys(list)).length === 0 ? true : undefined), 30_000, 100);

async function gtidState(server: ServerEndpoint): Promise<string> {
  return withConnection(server, ROOT, async (conn) => {
    const [rows] = await conn.query<RowDataPacket[]>(extras.driver.sql.gtidState);
    return parseGtidState(String(rows[0]?.gtid ?? '')).toString();
  });
}

async function serverUuid(server: ServerEndpoint): Promise<string> {
  return withConnection(server, ROOT, async (conn) => {
    const [rows] = await conn.query<RowDataPacket[]>('SELECT @@server_uuid AS u');
    return String(rows[0]?.u);
  });
}

/**
 * The edge's routing of a read from a user whose cookie carries `gtid` (the write the app reported),
 * decided on the tailer's real /status as the edge fetches and evaluates it.
 */
async function edgeReason(gtid: string): Promise<string> {
  const { region } = await status();
  const now = Date.now();
  const cookie = verifyRecentWrite(
    keys,
    signRecentWrite(keys, { writtenAt: now, gtid: parseGtidState(gtid) }),
    now,
    WINDOW_MS,
  );
  const local = new LocalWatermark({
    urls: [statusUrl],
    limits: { region, maxWatermarkAgeMs: 0, maxLagSeconds: 0 },
    cacheMs: 0,
    timeoutMs: 2_000,
  });
  const cfg = {
    localRegion: region,
    masterRegion: 'master',
    positionMode: true,
    failSafe: 'pinned',
    hasTailers: true,
  } as const;
  return decide({ safe: true, cookie }, cfg, await local.current()).reason;
}

/** The tailer acknowledged everything R1 has binlogged: its watermark is R1's GTID state. */
async function watermarkReachesR1(): Promise<string> {
  const expected = await gtidState(R1);
  return waitFor(`the watermark to equal R1's GTID state ${expected}`, async () => {
    const w = (await status()).watermark?.gtid;
    return w !== undefined && parseGtidState(w).equals(expected) ? w : undefined;
  });
}

/** Streaming, ready, never in a gap, and (the tailer is not re-pointed) on its first connection. */
async function expectNoGap(): Promise<void> {
  const body = await status();
  expect(body.state).toBe('streaming');
  expect(body.stats.gaps).toBe(0);
  expect(body.stats.reconnects).toBe(0);
  expect((await fetch(statusUrl.replace('/status', '/readyz'))).status).toBe(200);
}

function expectCovered(watermark: string, written: readonly string[]): void {
  const w = parseGtidState(watermark);
  expect(written.filter((k) => !w.covers(gtidOf.get(k) as string))).toEqual([]);
}

beforeAll(async () => {
  extras = await createExtraServers({ template: info.server.template, line: info.server.line });
  pair = await extras.startPair({ name: 'sw', serverIds: { primary: 101, replica: 102 } });
  P = pair.primary;
  R1 = pair.replica;
  await pair.query(
    'primary',
    'CREATE DATABASE s; CREATE TABLE s.t (id INT AUTO_INCREMENT PRIMARY KEY, k VARCHAR(64)) ENGINE=InnoDB',
  );
  R2 = await extras.startReplicaOf(P, { name: 'sw-replica2', serverId: 103 });
  await pair.waitForReplicaCatchUp();

  stateDir = mkdtempSync(join(tmpdir(), 'cachetail-switchover-'));
  await startTailer();
});

/** `cachetail tail` on R1 with the file's state dir (a restart resumes from its checkpoint), until ready. */
async function startTailer(): Promise<void> {
  const port = await freePort();
  statusUrl = `http://127.0.0.1:${port}/status`;
  tailer = spawnTailer(info, {
    CACHETAIL_SOURCE_HOST: R1.host,
    CACHETAIL_SOURCE_PORT: String(R1.port),
    CACHETAIL_SOURCE_USER: pair.tailerUser.user,
    CACHETAIL_SOURCE_PASSWORD: pair.tailerUser.password,
    CACHETAIL_SOURCE_SERVER_ID: '7960',
    CACHETAIL_SOURCE_HEARTBEAT_MS: '500',
    CACHETAIL_STATE_DIR: stateDir,
    CACHETAIL_STATUS_PORT: String(port),
  });
  await waitFor('the tailer to be ready', async () => {
    const res = await fetch(statusUrl.replace('/status', '/readyz'));
    return res.status === 200 ? true : undefined;
  }).catch(async (e: Error) => {
    const body = await status().catch(() => undefined);
    throw new Error(`${e.message}: ${JSON.stringify(body)}\n${tailer.output()}`);
  });
}

afterAll(async () => {
  // The tailer first: MySQL shuts down slowly while a binlog dump client is connected.
  if (tailer && tailer.child.exitCode === null) {
    tailer.child.kill('SIGTERM');
    await tailer.exited;
  }
  cache.close();
  await extras?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe(`primary switchover and failover under the tailer (${info.server.line})`, () => {
  it('switchover to R2: every key deleted, no gap, the watermark holds R2’s GTIDs, the edge unpins right', async () => {
    const before = await write(P, 5, 'before');
    // The operator's switchover: writes stop, both replicas catch up, R2 is promoted.
    await pair.waitForReplicaCatchUp();
    await extras.driver.waitForReplicaCatchUp(P, R2, 30_000);
    await allDeleted(before, 'keys written on P before the switchover to be deleted');
    await promoteToPrimary(extras.driver, R2, { gtidDomainId: 1 });

    // Writes on R2 before R1 follows it: R1 has not got them, so nothing is deleted and the edge pins.
    const during = await write(R2, 5, 'during');
    const lastDuring = gtidOf.get(during[4]) as string;
    expect(await edgeReason(lastDuring)).toBe('pinned-by-position');
    await sleep(NO_DELETE_MS);
    expect(await cachedKeys(during)).toEqual(during);

    await repointReplica(extras.driver, R1, R2);
    await repointReplica(extras.driver, P, R2, { formerPrimary: true });
    const after = await write(R2, 5, 'after');
    await extras.driver.waitForReplicaCatchUp(R2, R1, 30_000);
    await extras.driver.waitForReplicaCatchUp(R2, P, 30_000);
    await allDeleted([...during, ...after], 'keys written on R2 to be deleted');

    const watermark = await watermarkReachesR1();
    expectCovered(watermark, [...before, ...during, ...after]);
    if (flavor === 'mariadb') {
      // R2's ten writes, in the domain it was given, under its server id.
      const domain1 = parseGtidState(watermark).mariadbState?.find((e) => e.domainId === 1);
      expect(domain1).toEqual({ domainId: 1, serverId: 103, seqNo: 10n });
    } else {
      expect(parseGtidState(watermark).covers(`${await serverUuid(R2)}:1-10`)).toBe(true);
      expect(parseGtidState(watermark).covers(`${await serverUuid(R2)}:11`)).toBe(false);
    }
    expect(await edgeReason(lastDuring)).toBe('unpinned-by-watermark');
    expect(await edgeReason(gtidOf.get(after[4]) as string)).toBe('unpinned-by-watermark');
    await expectNoGap();
  });

  it('failover: R2 killed, P promoted, R1 re-pointed: every key deleted, no gap, the edge unpins right', async () => {
    const before = await write(R2, 5, 'before-failover');
    await extras.driver.waitForReplicaCatchUp(R2, R1, 30_000);
    await extras.driver.waitForReplicaCatchUp(R2, P, 30_000);
    await allDeleted(before, 'keys written on R2 before the failover to be deleted');

    const pid = extras.pids().get('sw-replica2') as number;
    process.kill(pid, 'SIGKILL');
    await waitFor('R2 to be gone', () => (isAlive(pid) ? undefined : true));
    await promoteToPrimary(extras.driver, P);

    // P writes on where its own GTIDs left off (MariaDB: domain 0, sequence numbers go on; MySQL: P's
    // server_uuid, which the watermark knows already): known to the watermark, not yet reached.
    const during = await write(P, 5, 'during-failover');
    const lastDuring = gtidOf.get(during[4]) as string;
    expect(await edgeReason(lastDuring)).toBe('pinned-by-position');
    await sleep(NO_DELETE_MS);
    expect(await cachedKeys(during)).toEqual(during);

    await repointReplica(extras.driver, R1, P);
    const after = await write(P, 5, 'after-failover');
    await extras.driver.waitForReplicaCatchUp(P, R1, 30_000);
    await allDeleted([...during, ...after], 'keys written on P after the failover to be deleted');

    const watermark = await watermarkReachesR1();
    expectCovered(watermark, [...before, ...during, ...after]);
    expect(parseGtidState(watermark).covers(lastDuring)).toBe(true);
    expect(parseGtidState(watermark).covers(gtidOf.get(after[4]) as string)).toBe(true);
    expect(await edgeReason(lastDuring)).toBe('unpinned-by-watermark');
    await expectNoGap();
    expect(tailer.child.exitCode).toBeNull();
  });

  it('a tailer down while a new source appears in R1’s binlog resumes from its checkpoint, nothing skipped', async () => {
    tailer.child.kill('SIGTERM');
    expect(await tailer.exited).toBe(0);
    // MariaDB: P's writes move to a domain of their own, 2 (as after a switchover to a primary with its
    // own gtid_domain_id), which the checkpoint does not know; R1 rotates its binlog in between, so the
    // newest file's GTID list names that domain too. MySQL: P's server_uuid, known already.
    if (flavor === 'mariadb') await withConnection(P, ROOT, (c) => c.query('SET GLOBAL gtid_domain_id = 2'));
    const first = await write(P, 5, 'down-1');
    await extras.driver.waitForReplicaCatchUp(P, R1, 30_000);
    await pair.query('replica', 'FLUSH BINARY LOGS');
    const second = await write(P, 5, 'down-2');
    await extras.driver.waitForReplicaCatchUp(P, R1, 30_000);
    expect(await cachedKeys([...first, ...second])).toEqual([...first, ...second]);

    await startTailer();
    await allDeleted([...first, ...second], 'keys written while the tailer was down to be deleted');
    const watermark = await watermarkReachesR1();
    expectCovered(watermark, [...first, ...second]);
    if (flavor === 'mariadb') {
      const domain2 = parseGtidState(watermark).mariadbState?.find((e) => e.domainId === 2);
      expect(domain2).toEqual({ domainId: 2, serverId: 101, seqNo: 10n });
    }
    await expectNoGap();
  });
});
