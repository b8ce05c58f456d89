/**
 * The edge end to end on the real primary/replica pair of every server line: two app servers stand for
 * the regions (the master app writes on the primary and reports the write's GTID with lastWriteGtid —
 * MariaDB `0-1-57` from @@last_gtid, MySQL `uuid:57` from the statement's OK packet; the replica app reads
 * the replica), a real `cachetail tail` process follows the replica and serves /status (its watermark:
 * MariaDB `0-1-57`, MySQL a GTID set `uuid:1-57`), and the edge proxy routes between them. The replica is
 * made to lag by stopping its SQL thread.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { annotate } from '../../src/annotate/index.js';
import { lastWriteGtid, trackWriteGtids } from '../../src/app/index.js';
import { GtidState } from '../../src/binlog/index.js';
import { edgeConfigSchema } from '../../src/config/edge.js';
import { clusterControl, type ServerRole } from '../../src/devcluster/index.js';
import { freePort } from '../../src/devcluster/proc.js';
import { buildEdgeProxy, createEdgeRouter } from '../../src/edge/index.js';
import { spawnTailer, type TailerProcess } from '../helpers/tailer-process.js';
import { sameGtids } from '../helpers/gtid.js';
import { waitFor } from '../helpers/wait.js';
import { cookiePair, listen, metricValue, send, type Running } from './edge-helpers.js';

const info = inject('cluster');
const cluster = clusterControl(info);
const DB = 'edge_e2e';
const KEY = `k1:${'e'.repeat(40)}`;

/** An app server for one region: POST /posts writes on the primary; GET /posts/count reads its own server. */
async function regionApp(region: string, server: ServerRole, reported: string[]): Promise<Running> {
  return listen((req, res) => {
    void (async () => {
      const conn = await cluster.connect(server);
      try {
        if (req.method === 'POST' && req.url === '/posts') {
          await trackWriteGtids(conn);
          const [ins] = await conn.query<ResultSetHeader>(
            annotate(`INSERT INTO ${DB}.posts (body) VALUES ('hello')`, ['posts:count']),
          );
          const gtid = await lastWriteGtid(conn, ins);
          reported.push(gtid);
          res.writeHead(201, { 'x-cachetail-gtid': gtid }).end(`${region} post ${ins.insertId}`);
          return;
        }
        const [[row]] = await conn.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${DB}.posts`);
        res.writeHead(200).end(`${region} ${String(row.n)}`);
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
  advance(ms: number): void;
}

async function startEdge(us: string, eu: string, statusUrl: string, positionMode: boolean): Promise<Edge> {
  const config = edgeConfigSchema.parse({
    region: 'eu',
    masterRegion: 'us',
    upstreams: { us, eu },
    cookie: { keys: [KEY] },
    tailers: { statusUrls: [statusUrl], cacheMs: 100, positionMode },
  });
  let offset = 0;
  const registry = new Registry();
  const router = createEdgeRouter(config, { registry, now: () => Date.now() + offset });
  const proxy = await buildEdgeProxy({ router, upstreams: config.upstreams, timeoutMs: 10_000 });
  await proxy.listen({ host: '127.0.0.1', port: 0 });
  return {
    proxy,
    port: (proxy.server.address() as AddressInfo).port,
    registry,
    advance: (ms) => void (offset += ms),
  };
}

async function tailerStatus(url: string): Promise<{ ready: boolean; watermark: { gtid: string } | null }> {
  const res = await fetch(url);
  return (await res.json()) as { ready: boolean; watermark: { gtid: string } | null };
}

const count = async (sql: ServerRole): Promise<number> => {
  const [row] = await cluster.query(sql, `SELECT COUNT(*) AS n FROM ${DB}.posts`);
  return Number(row.n);
};

describe('edge on the real primary/replica pair with a real tailer', () => {
  const reported: string[] = [];
  let us: Running;
  let eu: Running;
  let tailer: TailerProcess;
  let statusUrl = '';
  let stateDir = '';

  beforeAll(async () => {
    await cluster.query('primary', `DROP DATABASE IF EXISTS ${DB}`);
    await cluster.query('primary', `CREATE DATABASE ${DB}`);
    await cluster.query('primary', `CREATE TABLE ${DB}.posts (id INT AUTO_INCREMENT PRIMARY KEY, body TEXT)`);
    await cluster.waitForReplicaCatchUp();
    [us, eu] = await Promise.all([
      regionApp('us', 'primary', reported),
      regionApp('eu', 'replica', reported),
    ]);
    stateDir = mkdtempSync(join(tmpdir(), 'cachetail-edge-e2e-'));
    const port = await freePort();
    statusUrl = `http://127.0.0.1:${port}/status`;
    tailer = spawnTailer(info, {
      CACHETAIL_REGION: 'eu',
      CACHETAIL_SOURCE_SERVER_ID: '7961',
      CACHETAIL_SOURCE_HEARTBEAT_MS: '500',
      CACHETAIL_STATE_DIR: stateDir,
      CACHETAIL_STATUS_PORT: String(port),
    });
    await waitFor(
      'the tailer status server',
      () => tailerStatus(statusUrl).then((s) => s.ready || undefined),
      30_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n${tailer.output()}`);
    });
    // A first write gives the tailer a watermark (it has none before its first acknowledged transaction).
    await cluster.query('primary', `INSERT INTO ${DB}.posts (body) VALUES ('warm-up')`);
    await waitFor('a watermark', () => tailerStatus(statusUrl).then((s) => s.watermark ?? undefined), 15_000);
  }, 120_000);

  afterAll(async () => {
    await cluster.startReplicaSql().catch(() => undefined);
    tailer?.child.kill('SIGTERM');
    await tailer?.exited;
    await Promise.all([us?.close(), eu?.close()]);
    await cluster.query('primary', `DROP DATABASE IF EXISTS ${DB}`);
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('pins the writer to master while the replica lags, and unpins as soon as the tailer passes the write', async () => {
    const edge = await startEdge(us.url, eu.url, statusUrl, true);
    try {
      // The tailer has passed everything written so far; then the replica stops applying.
      const passed = await cluster.gtidState('primary');
      await waitFor(
        'the tailer to pass every earlier write',
        async () => sameGtids((await tailerStatus(statusUrl)).watermark?.gtid, passed) || undefined,
      );
      await cluster.stopReplicaSql();
      const before = await count('primary');
      const write = await send(edge.port, 'POST', '/posts');
      expect(`${write.status} ${write.body.toString()}`).toBe(`201 us post ${before + 1}`);
      const gtid = reported.at(-1)!;
      // One GTID: MariaDB domain-server-seq; MySQL source_uuid:seq.
      expect(gtid).toMatch(info.server.flavor === 'mysql' ? /^[0-9a-f-]{36}:\d+$/ : /^\d+-\d+-\d+$/);
      expect(
        GtidState.parse(await cluster.gtidState('primary')).equals(GtidState.parse(passed).add(gtid)),
      ).toBe(true);
      const cookie = cookiePair(write);
      expect(Buffer.from(cookie.split('.')[3], 'base64url').toString()).toBe(gtid);

      // The writer reads their own write from master; anyone else gets the lagging replica.
      expect((await send(edge.port, 'GET', '/posts/count', { cookie })).body.toString()).toBe(
        `us ${before + 1}`,
      );
      expect((await send(edge.port, 'GET', '/posts/count')).body.toString()).toBe(`eu ${before}`);
      await new Promise((r) => setTimeout(r, 1_500));
      expect((await send(edge.port, 'GET', '/posts/count', { cookie })).body.toString()).toBe(
        `us ${before + 1}`,
      );
      // The tailer has not passed the write: its watermark is still exactly what it was before it.
      expect((await tailerStatus(statusUrl)).watermark!.gtid).toSatisfy((w: string) => sameGtids(w, passed));

      await cluster.startReplicaSql();
      const resumed = Date.now();
      const local = await waitFor(
        'the pinned read to go local',
        async () => {
          const body = (await send(edge.port, 'GET', '/posts/count', { cookie })).body.toString();
          return body.startsWith('eu') ? body : undefined;
        },
        15_000,
        50,
      );
      const tookMs = Date.now() - resumed;
      // Local again, and the replica already shows the write: read-your-writes without the 20 s wait.
      expect(local).toBe(`eu ${before + 1}`);
      expect(tookMs).toBeLessThan(10_000);
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
      await edge.proxy.close();
    }
  });

  it('with position mode off, stays pinned for the whole window even though the replica caught up', async () => {
    const edge = await startEdge(us.url, eu.url, statusUrl, false);
    try {
      const before = await count('primary');
      const cookie = cookiePair(await send(edge.port, 'POST', '/posts'));
      const gtid = reported.at(-1)!;
      await cluster.waitForReplicaCatchUp();
      // The write is the primary's last transaction: the watermark then holds exactly the primary's GTIDs
      // (MariaDB: it is the write's GTID; MySQL: a set whose last GTID is the write's).
      const primaryState = await cluster.gtidState('primary');
      expect(GtidState.parse(primaryState).hasReached(gtid)).toBe(true);
      await waitFor(
        'the tailer to pass the write',
        async () => sameGtids((await tailerStatus(statusUrl)).watermark?.gtid, primaryState) || undefined,
      );
      if (info.server.flavor === 'mariadb') expect(primaryState).toBe(gtid);
      expect(await count('replica')).toBe(before + 1);
      expect((await send(edge.port, 'GET', '/posts/count', { cookie })).body.toString()).toBe(
        `us ${before + 1}`,
      );
      edge.advance(19_000);
      expect((await send(edge.port, 'GET', '/posts/count', { cookie })).body.toString()).toBe(
        `us ${before + 1}`,
      );
      edge.advance(1_000);
      expect((await send(edge.port, 'GET', '/posts/count', { cookie })).body.toString()).toBe(
        `eu ${before + 1}`,
      );
      const m = await edge.registry.metrics();
      expect(metricValue(m, 'cachetail_edge_decisions_total{region="us",reason="pinned-by-time"}')).toBe(2);
    } finally {
      await edge.proxy.close();
    }
  });
});
