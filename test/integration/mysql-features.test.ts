/**
 * What only MySQL has, live on the shared MySQL 9.7 pair with real tailers (so this file is MYSQL_ONLY in
 * test/matrix.ts: MariaDB has no tagged GTIDs, no zstd transaction payloads, no
 * replica_preserve_commit_order and no COM_BINLOG_DUMP_GTID; its own GTID resume and applier are the
 * subject of the files that run on every line):
 *
 *  1. Tagged GTIDs (`SET gtid_next = 'AUTOMATIC:<tag>'`) through the watermark, the checkpoint (a restart
 *     resumes by the GTID set), Kafka records and the edge's position mode.
 *  2. binlog_transaction_compression, per session and global, on the primary and on the replica (which
 *     re-logs with its own setting), up to a transaction whose compressed payload is over 16 MiB.
 *  3. The multi-threaded applier: no key is delivered before the replica committed its transaction, and
 *     with replica_preserve_commit_order=OFF the watermark carries the hole of a transaction committed
 *     out of order, which keeps the edge pinned for a write in the hole.
 *  4. A checkpoint whose binlog file was purged resumes by COM_BINLOG_DUMP_GTID, skipping nothing; with
 *     the transactions themselves purged, the tailer fails closed.
 *
 * Settings changed on the shared servers are restored in afterAll.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import memjs from 'memjs';
import type { Connection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { annotate } from '../../src/annotate/index.js';
import { lastWriteGtid, trackWriteGtids } from '../../src/app/gtid.js';
import { GtidState } from '../../src/binlog/index.js';
import { edgeConfigSchema } from '../../src/config/edge.js';
import { clusterControl, ensureKafka, type ServerRole } from '../../src/devcluster/index.js';
import { freePort } from '../../src/devcluster/proc.js';
import { buildEdgeProxy, createEdgeRouter } from '../../src/edge/index.js';
import { ReplicationConnection, type StartPosition } from '../../src/replication/client.js';
import type { InvalidationBatch } from '../../src/sinks/sink.js';
import { CheckpointStore, type Checkpoint } from '../../src/tailer/checkpoint.js';
import { mysqlGtidSetOf } from '../../src/tailer/commit-gate.js';
import type { TailerOptions } from '../../src/tailer/tailer.js';
import { RecordingSink } from '../helpers/recording-sink.js';
import { serveTailerStatus } from '../helpers/status-server.js';
import { startTailer } from '../helpers/tailer.js';
import { spawnTailer, type TailerProcess } from '../helpers/tailer-process.js';
import { waitFor } from '../helpers/wait.js';
import { cookiePair, listen, metricValue, send, type Running } from './edge-helpers.js';
import { TopicReader, createTopics, uniqueTopic } from './kafka-support.js';

const info = inject('cluster');
if (info.server.flavor !== 'mysql') {
  throw new Error(`mysql-features.test.ts runs on MySQL lines only (MYSQL_ONLY), not on ${info.server.line}`);
}
const cluster = clusterControl(info);
const { sql } = cluster.driver;
const DB = 'mysql_features';
const COOKIE_KEY = `k1:${'m'.repeat(40)}`;
const cache = memjs.Client.create(info.memcached.replica, { logger: { log: () => undefined } });
let primaryUuid = '';

// ---------------------------------------------------------------------------------------------------
// Writes and what the servers say about them

interface Written {
  gtid: string;
  keys: string[];
}

/** A connection to the primary that reports each transaction's GTID (session_track_gtids). */
async function writer(): Promise<Connection> {
  const conn = await cluster.connect('primary');
  await trackWriteGtids(conn);
  return conn;
}

/**
 * One transaction on `conn`: one annotated INSERT per entry of `statements`, carrying its keys; with
 * `tag`, under `SET gtid_next = 'AUTOMATIC:<tag>'` (TRANSACTION_GTID_TAG: root has it).
 */
async function write(conn: Connection, statements: readonly string[][], tag?: string): Promise<Written> {
  if (tag !== undefined) await conn.query(`SET gtid_next = 'AUTOMATIC:${tag}'`);
  try {
    await conn.query('BEGIN');
    for (const keys of statements) {
      await conn.query(annotate(`INSERT INTO ${DB}.items (k) VALUES (?)`, keys), [keys[0]]);
    }
    const commit = await conn.query('COMMIT');
    return { gtid: await lastWriteGtid(conn, commit), keys: [...new Set(statements.flat())] };
  } finally {
    if (tag !== undefined) await conn.query(`SET gtid_next = 'AUTOMATIC'`);
  }
}

async function writeOne(keys: string[], tag?: string): Promise<Written> {
  const conn = await writer();
  try {
    return await write(conn, [keys], tag);
  } finally {
    await conn.end();
  }
}

/** MySQL's GTID set text in the tailer's normal form, so that two sets compare as strings. */
const normal = (set: string): string => GtidState.parse(set, 'mysql').toString();
const executed = async (server: ServerRole): Promise<string> => normal(await cluster.gtidState(server));

async function committedOn(server: ServerRole, gtids: string): Promise<boolean> {
  const [row] = await cluster.query(server, 'SELECT GTID_SUBSET(?, @@global.gtid_executed) AS c', [gtids]);
  return Number(row?.c) === 1;
}

/** The binlog event right after `gtid`'s GTID event in `server`'s binlog, and its size. */
async function eventAfterGtid(server: ServerRole, gtid: string): Promise<{ type: string; bytes: number }> {
  for (const log of await cluster.query(server, 'SHOW BINARY LOGS')) {
    const events = await cluster.query(server, `SHOW BINLOG EVENTS IN '${String(log.Log_name)}'`);
    const at = events.findIndex(
      (e) =>
        (e.Event_type === 'Gtid' || e.Event_type === 'Gtid_tagged_log_event') &&
        String(e.Info).endsWith(`'${gtid}'`),
    );
    if (at < 0) continue;
    const next = events[at + 1];
    return { type: String(next?.Event_type), bytes: Number(next?.End_log_pos) - Number(next?.Pos) };
  }
  throw new Error(`${gtid} is not in the ${server}'s binlog`);
}

// ---------------------------------------------------------------------------------------------------
// The replica region's cache

async function markStale(keys: readonly string[]): Promise<void> {
  for (const k of keys) await cache.set(k, 'stale', {});
}

/** Each key's cached value ('' when absent). */
async function cached(keys: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const k of keys) out.push((await cache.get(k)).value?.toString() ?? '');
  return out;
}

const deleted = (keys: readonly string[], what: string, timeoutMs = 30_000) =>
  waitFor(what, async () => ((await cached(keys)).every((v) => v === '') ? true : undefined), timeoutMs, 50);

// ---------------------------------------------------------------------------------------------------
// Tailer status, the region apps and the edge

interface StatusBody {
  ready: boolean;
  state: string;
  watermark: { gtid: string; file: string; position: number } | null;
}

async function status(url: string): Promise<StatusBody> {
  return (await (await fetch(url)).json()) as StatusBody;
}

/**
 * An app server for one region. POST /rows/<id>?key=<k>[&tag=<t>] updates the row on the primary in an
 * annotated transaction (tagged when asked) and reports its GTID in x-cachetail-gtid, as an app using
 * the writer library does (the edge takes that header off the response; `reported` keeps each GTID for
 * the test); GET /rows/<id> answers `<region> <v>` from its own server.
 */
async function regionApp(region: string, server: ServerRole, reported: string[] = []): Promise<Running> {
  return listen((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const id = Number(url.pathname.split('/')[2]);
      const conn = server === 'primary' ? await writer() : await cluster.connect(server);
      try {
        if (req.method === 'POST') {
          const tag = url.searchParams.get('tag');
          if (tag) await conn.query(`SET gtid_next = 'AUTOMATIC:${tag}'`);
          const result = await conn.query<ResultSetHeader>(
            annotate(`UPDATE ${DB}.rows SET v = v + 1 WHERE id = ?`, [url.searchParams.get('key') ?? '']),
            [id],
          );
          const gtid = await lastWriteGtid(conn, result);
          reported.push(gtid);
          res.writeHead(201, { 'x-cachetail-gtid': gtid }).end(`${region} wrote ${id}`);
          return;
        }
        const [[row]] = await conn.query<RowDataPacket[]>(`SELECT v FROM ${DB}.rows WHERE id = ?`, [id]);
        res.writeHead(200).end(`${region} ${String(row?.v)}`);
      } finally {
        await conn.end();
      }
    })().catch((err: unknown) => {
      res.writeHead(500).end(String(err));
    });
  });
}

interface Edge {
  proxy: FastifyInstance;
  port: number;
  registry: Registry;
  close(): Promise<void>;
}

/** The edge of region eu (master us) in position mode, polling one tailer's /status. */
async function startEdge(us: Running, eu: Running, statusUrl: string): Promise<Edge> {
  const config = edgeConfigSchema.parse({
    region: 'eu',
    masterRegion: 'us',
    upstreams: { us: us.url, eu: eu.url },
    cookie: { keys: [COOKIE_KEY] },
    tailers: { statusUrls: [statusUrl], cacheMs: 100, positionMode: true },
  });
  const registry = new Registry();
  const router = createEdgeRouter(config, { registry });
  const proxy = await buildEdgeProxy({ router, upstreams: config.upstreams, timeoutMs: 10_000 });
  await proxy.listen({ host: '127.0.0.1', port: 0 });
  return {
    proxy,
    port: (proxy.server.address() as AddressInfo).port,
    registry,
    close: () => proxy.close(),
  };
}

/** The edge caches the tailers' /status for cacheMs (100 ms): after this, it has seen the latest one. */
const edgeRefresh = () => new Promise((r) => setTimeout(r, 250));

/** The body of GET /rows/<id> through the edge with `cookie` (the region that answered, and v). */
async function readThrough(edge: Edge, id: number, cookie: string): Promise<string> {
  return (await send(edge.port, 'GET', `/rows/${id}`, { cookie })).body.toString();
}

const rowValue = async (server: ServerRole, id: number): Promise<number> => {
  const [row] = await cluster.query(server, `SELECT v FROM ${DB}.rows WHERE id = ?`, [id]);
  return Number(row?.v);
};

/** A root session on the replica holding a row lock: the applier's worker for that row waits for it. */
async function lockReplicaRow(id: number): Promise<{ release: () => Promise<void> }> {
  const conn = await cluster.connect('replica');
  await conn.query('BEGIN');
  await conn.query(`SELECT v FROM ${DB}.rows WHERE id = ? FOR UPDATE`, [id]);
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      await conn.query('COMMIT');
      await conn.end();
    },
  };
}

/** Applier threads on the replica in `state` (SHOW PROCESSLIST), e.g. waiting for a preceding commit. */
async function appliersIn(state: string): Promise<number> {
  const rows = await cluster.query('replica', 'SHOW PROCESSLIST');
  return rows.filter((r) => r.User === 'system user' && r.State === state).length;
}

/** Restarts the replica's applier so its workers take the current global settings. */
async function restartApplier(): Promise<void> {
  await cluster.query('replica', sql.stopReplicaSql);
  await cluster.query('replica', sql.startReplicaSql);
}

// ---------------------------------------------------------------------------------------------------

beforeAll(async () => {
  await cluster.query('primary', `DROP DATABASE IF EXISTS ${DB}`);
  await cluster.query(
    'primary',
    `CREATE DATABASE ${DB};
     CREATE TABLE ${DB}.items (id INT AUTO_INCREMENT PRIMARY KEY, k VARCHAR(250)) ENGINE=InnoDB;
     CREATE TABLE ${DB}.rows (id INT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB;
     INSERT INTO ${DB}.rows VALUES (1, 0), (2, 0), (3, 0), (4, 0), (5, 0), (6, 0);
     CREATE TABLE ${DB}.big (id INT PRIMARY KEY, b VARBINARY(1024)) ENGINE=InnoDB`,
  );
  await cluster.waitForReplicaCatchUp();
  const [row] = await cluster.query('primary', 'SELECT @@server_uuid AS u');
  primaryUuid = String(row?.u);
});

afterAll(async () => {
  cache.close();
  await cluster.query('primary', `DROP DATABASE IF EXISTS ${DB}`);
});

describe('tagged GTIDs through the cachetail tail process: watermark, checkpoint, Kafka, edge', () => {
  const stateDir = mkdtempSync(join(info.baseDir, 'mysql-features-tagged-'));
  const topic = uniqueTopic('mysql-tagged');
  let brokers: string[] = [];
  let proc: TailerProcess;
  let statusUrl = '';
  let reader: TopicReader;
  /** Everything written in this describe, in order: each one's Kafka records must exist exactly once. */
  const written: Written[] = [];

  async function startProcess(): Promise<void> {
    const port = await freePort();
    statusUrl = `http://127.0.0.1:${port}/status`;
    proc = spawnTailer(info, {
      CACHETAIL_REGION: 'eu',
      CACHETAIL_SOURCE_SERVER_ID: '7971',
      CACHETAIL_SOURCE_HEARTBEAT_MS: '500',
      CACHETAIL_STATE_DIR: stateDir,
      CACHETAIL_STATUS_PORT: String(port),
      CACHETAIL_CHECKPOINT_INTERVAL_MS: '100',
      // Info: the resolved start position of each tailer is logged, which the resume test reads.
      CACHETAIL_LOG_LEVEL: 'info',
      CACHETAIL_KAFKA_ENABLED: 'true',
      CACHETAIL_KAFKA_BROKERS: brokers.join(','),
      CACHETAIL_KAFKA_TOPIC: topic,
      CACHETAIL_KAFKA_APPLIED_TOPIC: `${topic}-applied`,
    });
    await waitFor('the tailer to be ready', () => status(statusUrl).then((s) => s.ready || undefined), 30_000)
      // The whole output says why (preflight, connection, …).
      .catch((e: Error) => {
        throw new Error(`${e.message}\n${proc.output()}`);
      });
  }

  async function stopProcess(): Promise<void> {
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  }

  /** Per event id of `w`, how many records the topic holds. */
  const recordCounts = (w: readonly Written[]) => {
    const ids = w.flatMap((x) => x.keys.map((_, i) => `gtid:${x.gtid}#${i}`));
    return ids.map((id) => [id, reader.records.filter((r) => r.inv.eventId === id).length]);
  };

  beforeAll(async () => {
    ({ brokers } = await ensureKafka(info));
    await createTopics(brokers, topic);
    await startProcess();
    reader = await TopicReader.start(brokers, topic);
  });

  afterAll(async () => {
    if (proc?.child.exitCode === null && proc.child.signalCode === null) {
      proc.child.kill('SIGTERM');
      await proc.exited;
    }
    await reader?.stop();
  });

  it('gives tagged transactions their tagged GTID in the watermark and on the Kafka records', async () => {
    const conn = await writer();
    const keys = ['tag:order:1', 'tag:order:2', 'tag:plain:1', 'tag:order:3', 'tag:user:1'];
    await markStale(keys);
    let batch: Written[];
    try {
      batch = [
        await write(conn, [['tag:order:1'], ['tag:order:2']], 'mf_orders'),
        await write(conn, [['tag:plain:1']]),
        await write(conn, [['tag:order:3']], 'mf_orders'),
        await write(conn, [['tag:user:1']], 'MF_Users'),
      ];
    } finally {
      await conn.end();
    }
    written.push(...batch);
    // The server numbers each tag on its own; MySQL keeps tags lower-case.
    const [orders1, plain, orders2, users] = batch;
    expect(orders1.gtid).toBe(`${primaryUuid}:mf_orders:1`);
    expect(plain.gtid).toMatch(new RegExp(`^${primaryUuid}:\\d+$`));
    expect(orders2.gtid).toBe(`${primaryUuid}:mf_orders:2`);
    expect(users.gtid).toBe(`${primaryUuid}:mf_users:1`);

    await deleted(keys, 'the tagged transactions’ keys to be deleted');
    await cluster.waitForReplicaCatchUp();
    const replicaSet = await executed('replica');
    const s = await waitFor('the watermark to reach the replica’s gtid_executed', async () => {
      const now = await status(statusUrl);
      return now.watermark?.gtid === replicaSet ? now : undefined;
    });
    const watermark = GtidState.parse(s.watermark!.gtid);
    for (const w of batch) expect(watermark.hasReached(w.gtid)).toBe(true);
    expect(s.watermark!.gtid).toContain(`:mf_orders:1-2:mf_users:1`);

    await reader.waitForIds(
      batch.flatMap((w) => w.keys.map((_, i) => `gtid:${w.gtid}#${i}`)),
      'the tagged transactions’ records',
    );
    const mine = reader.records.filter((r) => batch.some((w) => r.inv.transactionId === `gtid:${w.gtid}`));
    expect(mine.map((r) => [r.key, r.inv.gtid]).sort()).toEqual(
      batch.flatMap((w) => w.keys.map((k) => [k, w.gtid])).sort(),
    );
  });

  it('resumes from its checkpoint by the GTID set, tags included: nothing acknowledged again, nothing skipped', async () => {
    const before = (await status(statusUrl)).watermark!.gtid;
    await stopProcess();
    // Both tailers (memcached and Kafka) checkpointed the whole set, tags included, on the way out.
    const checkpoint = JSON.parse(readFileSync(join(stateDir, 'checkpoint.json'), 'utf8')) as Checkpoint;
    const kafkaCheckpoint = JSON.parse(
      readFileSync(join(stateDir, 'checkpoint-kafka.json'), 'utf8'),
    ) as Checkpoint;
    const [replicaRow] = await cluster.query('replica', 'SELECT @@server_uuid AS u');
    expect(checkpoint.server).toMatchObject({
      flavor: 'mysql',
      serverId: 2,
      serverUuid: String(replicaRow?.u),
    });
    expect(checkpoint.gtid).toBe(before);
    expect(kafkaCheckpoint.gtid).toBe(before);
    expect(before).toBe(await executed('replica'));

    // A repeated delete would remove these again: they are what the first process already deleted.
    const acknowledged = written.flatMap((w) => w.keys);
    for (const k of acknowledged) await cache.set(k, 'fresh', {});
    // Written while no tailer runs: an old tag, no tag, and a tag the checkpoint has never seen.
    const down = ['down:order:4', 'down:plain:2', 'down:new:1'];
    await markStale(down);
    const conn = await writer();
    let batch: Written[];
    try {
      batch = [
        await write(conn, [['down:order:4']], 'mf_orders'),
        await write(conn, [['down:plain:2']]),
        await write(conn, [['down:new:1']], 'mf_new'),
      ];
    } finally {
      await conn.end();
    }
    written.push(...batch);
    expect(batch.map((w) => w.gtid)).toEqual([
      `${primaryUuid}:mf_orders:3`,
      expect.stringMatching(new RegExp(`^${primaryUuid}:\\d+$`)),
      `${primaryUuid}:mf_new:1`,
    ]);
    await cluster.waitForReplicaCatchUp();

    await startProcess();
    // Both tailers asked the replica for everything not in the checkpoint's set (COM_BINLOG_DUMP_GTID).
    const starts = proc
      .output()
      .split('\n')
      .filter((l) => l.includes('"resolved start position"'))
      .map((l) => JSON.parse(l) as { tailer?: string; from: string; start: StartPosition });
    expect(starts.map((l) => [l.tailer ?? 'memcached', l.from, l.start]).sort()).toEqual([
      ['kafka', 'checkpoint (GTID set)', { kind: 'gtid', gtid: before }],
      ['memcached', 'checkpoint (GTID set)', { kind: 'gtid', gtid: before }],
    ]);
    await deleted(down, 'the keys written while the tailer was down to be deleted');
    await reader.waitForIds(
      batch.flatMap((w) => w.keys.map((_, i) => `gtid:${w.gtid}#${i}`)),
      'the records of the transactions written while the tailer was down',
    );
    // Read in order: the later transactions are deleted, so the earlier ones would have been by now.
    expect(await cached(acknowledged)).toEqual(acknowledged.map(() => 'fresh'));
    // Every record exactly once: none published again, none missing.
    expect(recordCounts(written)).toEqual(recordCounts(written).map(([id]) => [id, 1]));
    await waitFor('the watermark to include the new tag', async () =>
      (await status(statusUrl)).watermark?.gtid === (await executed('replica')) ? true : undefined,
    );
  });

  it('edge: position mode unpins a tagged write as soon as the watermark covers it', async () => {
    const reported: string[] = [];
    const [us, eu] = await Promise.all([regionApp('us', 'primary', reported), regionApp('eu', 'replica')]);
    const edge = await startEdge(us, eu, statusUrl);
    try {
      const v = await rowValue('primary', 1);
      await cluster.stopReplicaSql();
      const write = await send(edge.port, 'POST', '/rows/1?key=edge:row:1&tag=mf_edge');
      expect(`${write.status} ${write.body.toString()}`).toBe('201 us wrote 1');
      expect(reported).toHaveLength(1);
      const gtid = reported[0];
      // The first transaction of a tag no tailer has seen yet: the watermark cannot vouch for it.
      expect(gtid).toBe(`${primaryUuid}:mf_edge:1`);
      const cookie = cookiePair(write);
      expect(Buffer.from(cookie.split('.')[3], 'base64url').toString()).toBe(gtid);

      expect(await readThrough(edge, 1, cookie)).toBe(`us ${v + 1}`);
      expect(await readThrough(edge, 1, '')).toBe(`eu ${v}`);
      await new Promise((r) => setTimeout(r, 1_500));
      expect(await readThrough(edge, 1, cookie)).toBe(`us ${v + 1}`);
      expect(GtidState.parse((await status(statusUrl)).watermark!.gtid).hasReached(gtid)).toBe(false);

      await cluster.startReplicaSql();
      const local = await waitFor(
        'the pinned read to go local',
        async () => {
          const body = await readThrough(edge, 1, cookie);
          return body.startsWith('eu') ? body : undefined;
        },
        15_000,
        50,
      );
      // Local again, and the replica already shows the write (read-your-writes without the 20 s wait).
      expect(local).toBe(`eu ${v + 1}`);
      expect(GtidState.parse((await status(statusUrl)).watermark!.gtid).hasReached(gtid)).toBe(true);
      const m = await edge.registry.metrics();
      expect(
        metricValue(m, 'cachetail_edge_decisions_total{region="us",reason="pinned-by-position"}'),
      ).toBeGreaterThanOrEqual(2);
      expect(
        metricValue(m, 'cachetail_edge_decisions_total{region="eu",reason="unpinned-by-watermark"}'),
      ).toBe(1);
      expect(metricValue(m, 'cachetail_edge_decisions_total{region="us",reason="fail-safe"}')).toBe(0);
    } finally {
      await cluster.startReplicaSql();
      await edge.close();
      await Promise.all([us.close(), eu.close()]);
    }
  });
});

describe('binlog_transaction_compression (zstd Transaction_payload events)', () => {
  let probe: Connection;
  let t: Awaited<ReturnType<typeof startTailer<RecordingSink>>>;

  /** At delivery time: has the replica committed every transaction of the batch? */
  const replicaCommitted = async (batch: InvalidationBatch): Promise<boolean> => {
    const [[row]] = await probe.query<RowDataPacket[]>('SELECT GTID_SUBSET(?, @@global.gtid_executed) AS c', [
      mysqlGtidSetOf(batch.transactions),
    ]);
    return Number(row?.c) === 1;
  };

  beforeAll(async () => {
    probe = await cluster.connect('replica');
    t = await startTailer(info, (inner) => new RecordingSink(inner, replicaCommitted));
  });

  afterAll(async () => {
    await t?.stop();
    await probe?.end();
    await cluster.query('primary', 'SET GLOBAL binlog_transaction_compression = OFF');
    await cluster.query('replica', 'SET GLOBAL binlog_transaction_compression = OFF');
    await restartApplier();
  });

  /** Waits until the tailer delivered `w` (in that order, and nothing else since `from`). */
  async function delivered(from: number, w: readonly Written[], timeoutMs = 30_000): Promise<void> {
    const want = w.map((x) => ({ gtid: x.gtid, keys: x.keys }));
    await waitFor(
      `${w.length} transactions to be delivered`,
      () => (t.sink.transactions.length - from >= w.length ? true : undefined),
      timeoutMs,
      50,
    );
    expect(t.sink.transactions.slice(from)).toEqual(want);
    expect(t.sink.deliveries.every((d) => d.observed === true)).toBe(true);
  }

  it('per session on the primary; the replica re-logs the transaction uncompressed with its own setting OFF', async () => {
    const from = t.sink.transactions.length;
    const conn = await writer();
    let w: Written;
    try {
      await conn.query('SET SESSION binlog_transaction_compression = ON');
      w = await write(conn, [['zs:session:1'], ['zs:session:2', 'zs:session:3']]);
    } finally {
      await conn.end();
    }
    await cluster.waitForReplicaCatchUp();
    expect(await eventAfterGtid('primary', w.gtid)).toMatchObject({ type: 'Transaction_payload' });
    expect(await eventAfterGtid('replica', w.gtid)).toEqual({ type: 'Query', bytes: expect.any(Number) });
    await delivered(from, [w]);
  });

  it('global on both servers: the replica’s binlog holds Transaction_payload events, one over 16 MiB, every key delivered', async () => {
    await cluster.query('primary', 'SET GLOBAL binlog_transaction_compression = ON');
    await cluster.query('replica', 'SET GLOBAL binlog_transaction_compression = ON');
    // The applier's workers take the global value when they start.
    await restartApplier();
    const from = t.sink.transactions.length;

    const conn = await writer();
    const written: Written[] = [];
    try {
      const [[session]] = await conn.query<RowDataPacket[]>(
        'SELECT @@session.binlog_transaction_compression AS c',
      );
      expect(session?.c).toBe(1);
      written.push(await write(conn, [['zg:small:1']]));
      written.push(await write(conn, [['zg:tagged:1']], 'mf_zstd'));

      // One transaction of 1,500 annotated statements (two keys each) and an 18 MiB random row insert:
      // zstd cannot shrink random bytes, so its payload event is over 16 MiB (several packets).
      const keys: string[] = [];
      const statements: string[] = [];
      for (let i = 0; i < 1_500; i++) {
        const pair = [`zg:big:${i}:a`, `zg:big:${i}:b`];
        keys.push(...pair);
        statements.push(annotate(`INSERT INTO ${DB}.items (k) VALUES ('${pair[0]}')`, pair));
      }
      keys.push('zg:big:blob');
      statements.push(
        annotate(
          `INSERT INTO ${DB}.big WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 18432)
           SELECT n, RANDOM_BYTES(1024) FROM s`,
          ['zg:big:blob'],
        ),
      );
      await conn.query('SET SESSION cte_max_recursion_depth = 20000');
      await conn.query('BEGIN');
      // One round trip: each statement is still logged with its own Rows_query event.
      await conn.query(statements.join(';\n'));
      const commit = await conn.query('COMMIT');
      written.push({ gtid: await lastWriteGtid(conn, commit), keys });
    } finally {
      await conn.end();
    }
    // An 18 MiB transaction crosses the loaded two-core machine twice (primary → replica → tailer).
    await cluster.waitForReplicaCatchUp(120_000);
    for (const w of written) {
      expect(await eventAfterGtid('primary', w.gtid)).toMatchObject({ type: 'Transaction_payload' });
      expect(await eventAfterGtid('replica', w.gtid)).toMatchObject({ type: 'Transaction_payload' });
    }
    const big = await eventAfterGtid('replica', written[2].gtid);
    expect(big.bytes).toBeGreaterThan(16 * 1024 * 1024);
    await delivered(from, written, 120_000);
    expect(t.sink.transactions.at(-1)?.keys).toHaveLength(3_001);
  }, 240_000);
});

describe('the multi-threaded applier (replica_parallel_workers=4)', () => {
  let probe: Connection;
  let t: Awaited<ReturnType<typeof startTailer<RecordingSink>>>;
  const locks: { release: () => Promise<void> }[] = [];

  beforeAll(async () => {
    probe = await cluster.connect('replica');
    // After a restart of the applier (the compression tests), its first transaction is applied alone.
    await send0('mta:warm-up', 6);
    await cluster.waitForReplicaCatchUp();
    t = await startTailer(
      info,
      (inner) =>
        new RecordingSink(inner, async (batch) => {
          // At delivery time: has the replica committed every transaction of the batch?
          const [[row]] = await probe.query<RowDataPacket[]>(
            'SELECT GTID_SUBSET(?, @@global.gtid_executed) AS c',
            [mysqlGtidSetOf(batch.transactions)],
          );
          return Number(row?.c) === 1;
        }),
    );
  });

  afterAll(async () => {
    for (const l of locks) await l.release();
    await cluster.query('replica', 'SET GLOBAL binlog_group_commit_sync_delay = 0');
    await cluster.query('replica', sql.stopReplica);
    await cluster.query('replica', 'SET GLOBAL replica_preserve_commit_order = ON');
    await cluster.query('replica', sql.startReplica);
    await cluster.waitForReplicaCatchUp();
    await t?.stop();
    await probe?.end();
  });

  const deliveredGtids = (from: number) => t.sink.transactions.slice(from).map((x) => x.gtid);

  it('delivers nothing of a transaction held by a row lock on the replica, nor of one waiting behind it (preserve_commit_order=ON)', async () => {
    const from = t.sink.transactions.length;
    const lock = await lockReplicaRow(1);
    locks.push(lock);
    const keys = ['mta:held:1', 'mta:behind:2'];
    await markStale(keys);
    const held = await send0('mta:held:1', 1);
    const behind = await send0('mta:behind:2', 2);
    // Worker 1 waits for the row lock; worker 2 applied its row and waits to commit in order.
    await waitFor('a worker waiting for the preceding commit', async () =>
      (await appliersIn('Waiting for preceding transaction to commit')) === 1 ? true : undefined,
    );
    // Heartbeats keep coming (the tailer is alive), but there is nothing the replica committed to deliver.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await committedOn('replica', held)).toBe(false);
    expect(await committedOn('replica', behind)).toBe(false);
    expect(deliveredGtids(from)).toEqual([]);
    expect(await cached(keys)).toEqual(['stale', 'stale']);

    await lock.release();
    await deleted(keys, 'both keys after the lock was released');
    expect(deliveredGtids(from)).toEqual([held, behind]);
    expect(t.sink.deliveries.every((d) => d.observed === true)).toBe(true);
  });

  it('delivers nothing the replica wrote to its binlog but has not committed yet (binlog_group_commit_sync_delay)', async () => {
    const from = t.sink.transactions.length;
    // The replica's groups wait 1 s between the binlog write (readable by the tailer) and the commit.
    await cluster.query('replica', 'SET GLOBAL binlog_group_commit_sync_delay = 1000000');
    try {
      await markStale(['mta:delayed:1']);
      const [before] = await cluster.query('replica', sql.binlogStatus);
      const gtid = await send0('mta:delayed:1', 3);
      // The window is real: the replica's binlog holds the transaction while @@gtid_executed does not.
      const seen = await waitFor(
        'the transaction in the replica’s binlog before its commit',
        async () => {
          const [now] = await cluster.query('replica', sql.binlogStatus);
          if (Number(now?.Position) === Number(before?.Position) && now?.File === before?.File)
            return undefined;
          return { committed: await committedOn('replica', gtid) };
        },
        10_000,
        10,
      );
      expect(seen).toEqual({ committed: false });
      await deleted(['mta:delayed:1'], 'the delayed transaction’s key');
      expect(deliveredGtids(from)).toEqual([gtid]);
      // The sink saw it only once the replica had committed it.
      expect(t.sink.deliveries.at(-1)).toMatchObject({ keys: ['mta:delayed:1'], observed: true });
    } finally {
      await cluster.query('replica', 'SET GLOBAL binlog_group_commit_sync_delay = 0');
    }
  });

  it('with replica_preserve_commit_order=OFF: delivers in the replica’s commit order, the watermark keeps the hole, the edge keeps its write pinned', async () => {
    await cluster.query('replica', sql.stopReplica);
    await cluster.query('replica', 'SET GLOBAL replica_preserve_commit_order = OFF');
    await cluster.query('replica', sql.startReplica);
    // The first transaction after START REPLICA is applied on its own (the coordinator has no committed
    // low-water mark yet): one before, so that the two below can run in parallel.
    await send0('mta:warm-up', 6);
    await cluster.waitForReplicaCatchUp();

    const tailerStatus = await serveTailerStatus(t.tailer, 'eu');
    const reported: string[] = [];
    const [us, eu] = await Promise.all([regionApp('us', 'primary', reported), regionApp('eu', 'replica')]);
    const edge = await startEdge(us, eu, tailerStatus.url);
    try {
      await waitFor('the watermark to reach the replica', async () =>
        (await status(tailerStatus.url)).watermark?.gtid === (await executed('replica')) ? true : undefined,
      );
      const base = await executed('replica');
      const from = t.sink.transactions.length;
      const v4 = await rowValue('primary', 4);
      const v5 = await rowValue('primary', 5);
      const lock = await lockReplicaRow(4);
      locks.push(lock);
      const keys = ['hole:first:4', 'hole:second:5'];
      await markStale(keys);
      const first = await send(edge.port, 'POST', '/rows/4?key=hole:first:4');
      const second = await send(edge.port, 'POST', '/rows/5?key=hole:second:5');
      expect([first.status, second.status]).toEqual([201, 201]);
      const [g1, g2] = reported;
      const [c1, c2] = [first, second].map(cookiePair);

      // The second transaction commits on the replica while the first waits for the lock: a hole.
      const holed = GtidState.parse(base).add(g2).toString();
      await waitFor('the replica to commit the second transaction before the first', async () =>
        (await executed('replica')) === holed ? true : undefined,
      );
      await waitFor('the tailer to deliver the second transaction', () =>
        t.sink.transactions.length > from ? true : undefined,
      );
      expect(deliveredGtids(from)).toEqual([g2]);
      expect(await cached(keys)).toEqual(['stale', '']);
      await waitFor('the watermark with the hole', async () =>
        (await status(tailerStatus.url)).watermark?.gtid === holed ? true : undefined,
      );
      await edgeRefresh();
      expect(holed).toMatch(new RegExp(`${primaryUuid}:1-\\d+:\\d+`));
      const mark = GtidState.parse((await status(tailerStatus.url)).watermark!.gtid);
      expect([mark.hasReached(g1), mark.hasReached(g2)]).toEqual([false, true]);

      // The write in the hole stays pinned to the master; the one after it goes local.
      expect(await readThrough(edge, 5, c2)).toBe(`eu ${v5 + 1}`);
      expect(await readThrough(edge, 4, c1)).toBe(`us ${v4 + 1}`);
      await new Promise((r) => setTimeout(r, 500));
      expect(await readThrough(edge, 4, c1)).toBe(`us ${v4 + 1}`);

      await lock.release();
      await deleted(keys, 'the first transaction’s key after the lock was released');
      expect(deliveredGtids(from)).toEqual([g2, g1]);
      expect(t.sink.deliveries.every((d) => d.observed === true)).toBe(true);
      const closed = GtidState.parse(holed).add(g1).toString();
      expect(await executed('replica')).toBe(closed);
      await waitFor('the watermark without the hole', async () =>
        (await status(tailerStatus.url)).watermark?.gtid === closed ? true : undefined,
      );
      await edgeRefresh();
      expect(await readThrough(edge, 4, c1)).toBe(`eu ${v4 + 1}`);
      const m = await edge.registry.metrics();
      expect(metricValue(m, 'cachetail_edge_decisions_total{region="us",reason="pinned-by-position"}')).toBe(
        2,
      );
      expect(
        metricValue(m, 'cachetail_edge_decisions_total{region="eu",reason="unpinned-by-watermark"}'),
      ).toBe(2);
    } finally {
      for (const l of locks) await l.release();
      await edge.close();
      await Promise.all([us.close(), eu.close(), tailerStatus.close()]);
    }
  });

  /** One annotated single-row UPDATE on the primary in autocommit; its GTID. */
  async function send0(key: string, id: number): Promise<string> {
    const conn = await writer();
    try {
      const result = await conn.query(annotate(`UPDATE ${DB}.rows SET v = v + 1 WHERE id = ?`, [key]), [id]);
      return await lastWriteGtid(conn, result);
    } finally {
      await conn.end();
    }
  }
});

describe('a checkpoint written on MySQL, after FLUSH BINARY LOGS + PURGE on the replica', () => {
  const dir = mkdtempSync(join(info.baseDir, 'mysql-features-purge-'));
  const store = new CheckpointStore(dir);
  const dumps: StartPosition[] = [];
  /** The test tailer's options: this checkpoint, and every dump's start position recorded. */
  const extra: Partial<TailerOptions> = {
    checkpoints: store,
    checkpointIntervalMs: 100,
    connect: async (source) => {
      const conn = await ReplicationConnection.open(source);
      const startDump = conn.startDump.bind(conn);
      conn.startDump = (s, start, handlers) => {
        dumps.push(start);
        return startDump(s, start, handlers);
      };
      return conn;
    },
  };
  let running: Awaited<ReturnType<typeof startTailer<RecordingSink>>> | undefined;

  afterAll(async () => {
    await running?.stop();
  });

  async function binlogFiles(): Promise<string[]> {
    return (await cluster.query('replica', 'SHOW BINARY LOGS')).map((r) => String(r.Log_name));
  }

  async function flush(): Promise<string> {
    await cluster.query('replica', 'FLUSH BINARY LOGS');
    const [row] = await cluster.query('replica', sql.binlogStatus);
    return String(row?.File);
  }

  /** PURGE BINARY LOGS TO `file` on the replica; waits until the older files are really gone. */
  async function purgeTo(file: string): Promise<void> {
    await waitFor(
      `the replica's binlogs before ${file} to be purged`,
      async () => {
        await cluster.query('replica', `PURGE BINARY LOGS TO '${file}'`);
        return (await binlogFiles())[0] === file ? true : undefined;
      },
      20_000,
      300,
    );
  }

  it('resumes by COM_BINLOG_DUMP_GTID from the checkpoint’s set: nothing skipped, nothing delivered again', async () => {
    running = await startTailer(info, (inner) => new RecordingSink(inner), extra);
    await markStale(['purge:w0:1', 'purge:w0:2']);
    const first = [await writeOne(['purge:w0:1']), await writeOne(['purge:w0:2'], 'mf_purge')];
    await deleted(['purge:w0:1', 'purge:w0:2'], 'the first keys');
    await running.stop();
    running = undefined;
    const checkpoint = (await store.load())!;
    const [replicaRow] = await cluster.query('replica', 'SELECT @@server_uuid AS u');
    expect(checkpoint.server).toMatchObject({
      flavor: 'mysql',
      serverId: 2,
      serverUuid: String(replicaRow?.u),
    });
    expect(checkpoint.gtid).toBe(await executed('replica'));
    expect(GtidState.parse(checkpoint.gtid!).hasReached(first[1].gtid)).toBe(true);
    const checkpointFile = checkpoint.file;

    // While no tailer runs: two new files with transactions in them; then the checkpoint's file goes.
    const later = ['purge:w1:1', 'purge:w1:2', 'purge:w2:1'];
    await markStale(later);
    const f1 = await flush();
    const w1 = [await writeOne(['purge:w1:1']), await writeOne(['purge:w1:2'], 'mf_purge')];
    await cluster.waitForReplicaCatchUp();
    await flush();
    const w2 = [await writeOne(['purge:w2:1'])];
    await cluster.waitForReplicaCatchUp();
    await purgeTo(f1);
    expect(await binlogFiles()).not.toContain(checkpointFile);

    dumps.length = 0;
    running = await startTailer(info, (inner) => new RecordingSink(inner), extra);
    await deleted(later, 'the keys written after the checkpoint');
    expect(dumps).toEqual([{ kind: 'gtid', gtid: checkpoint.gtid }]);
    // Exactly what came after the checkpoint, in order: none of the first keys again.
    expect(running.sink.transactions).toEqual([...w1, ...w2].map((w) => ({ gtid: w.gtid, keys: w.keys })));
    await waitFor('the resumed watermark to reach the replica', async () =>
      running!.tailer.acknowledged?.gtid?.toString() === (await executed('replica')) ? true : undefined,
    );
  });

  it('fails closed when transactions after the checkpoint were purged too', async () => {
    await running!.stop();
    running = undefined;
    const checkpoint = (await store.load())!;
    const lost = ['purge:lost:1'];
    await markStale(lost);
    const w3 = await writeOne(lost);
    await cluster.waitForReplicaCatchUp();
    await purgeTo(await flush());
    expect(GtidState.parse(checkpoint.gtid!).hasReached(w3.gtid)).toBe(false);

    dumps.length = 0;
    running = await startTailer(info, (inner) => new RecordingSink(inner), extra);
    await waitFor('the tailer to fail closed', () => (running!.tailer.state === 'failed' ? true : undefined));
    expect(running.tailer.gap).toBe(true);
    expect(running.tailer.lastError?.code).toBe('BINLOG_UNAVAILABLE');
    expect(running.tailer.lastError?.message).toMatch(/server error 1236: .*purged required binary logs/);
    expect(dumps).toEqual([{ kind: 'gtid', gtid: checkpoint.gtid }]);
    expect(running.sink.transactions).toEqual([]);
    expect(await cached(lost)).toEqual(['stale']);
  });
});
