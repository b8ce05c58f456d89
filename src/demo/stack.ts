/**
 * The whole local two-region deployment as one object: the devcluster (MariaDB primary in the master
 * region, replica in the replica region, a memcached tier per region), the replica region's tailer with
 * its status server (+ the dashboard), one demo app per region, the edge proxy in front of them (in the
 * replica region), and optionally Kafka. Built as a function of its options; printing, signals and the
 * exit code live in src/demo.ts.
 *
 * Everything listens on 127.0.0.1. Whatever was started is stopped by stop(), in reverse order, also when
 * start-up fails half-way.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import memjs from 'memjs';
import { createPool, type Pool } from 'mysql2/promise';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { carrierTableDdl } from '../app/index.js';
import { edgeConfigSchema } from '../config/edge.js';
import { tailerConfigSchema, type TailerConfig } from '../config/schema.js';
import { dashboardRoutes, observeDeliveries, RecentKeys, type DashboardState } from '../dashboard/index.js';
import { clusterControl, startCluster, type ClusterControl, type ClusterInfo } from '../devcluster/index.js';
import type { ServerEndpoint } from '../devcluster/index.js';
import { buildEdgeProxy, createEdgeRouter } from '../edge/index.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { createTailerMetrics } from '../observability/metrics.js';
import { buildStatusServer } from '../observability/status-server.js';
import { createConsistencySampler, memcachedEnvelopeReader } from '../sampler/index.js';
import { createTailer } from '../wiring/memcached-tailer.js';
import { tailerStatus } from '../tailer/status.js';
import { buildDemoApp, CARRIER_TABLE, DEMO_DB, loadUser, loginOf, PROFILE_TYPE } from './app.js';
import type { DemoKafka } from './kafka.js';
import { DEMO_HOST, listenPreferred, pickPort } from './ports.js';
import { regionsProvider } from './regions.js';
import { OLD_NAME, Scenario, SCENARIO_LOGIN } from './scenario.js';

export const MASTER_REGION = 'california';
export const REPLICA_REGION = 'virginia';

export interface DemoPorts {
  dashboard: number;
  edge: number;
  masterApp: number;
  replicaApp: number;
}

/** Memorable ports for `npm start`; any port is used instead when one is taken. */
export const PREFERRED_PORTS: DemoPorts = { dashboard: 9464, edge: 8080, masterApp: 3001, replicaApp: 3002 };
/** Issue 8's goal: five nines of sampled keys consistent 1 s after their delete. */
const CONSISTENCY_TARGET = { fraction: 0.99999, withinMs: 1_000 };
const ANY_PORTS: DemoPorts = { dashboard: 0, edge: 0, masterApp: 0, replicaApp: 0 };

export interface DemoOptions {
  /** A running cluster to use (tests share the suite's); without it one is started and owned. */
  cluster?: ClusterControl;
  ports?: Partial<DemoPorts>;
  /** Start Kafka in the background when the machine can (default false). */
  kafka?: { start: (config: TailerConfig, log: Logger, info: ClusterInfo) => Promise<DemoKafka> };
  /** Pause between the dashboard scenario's steps (default 700 ms). */
  paceMs?: number;
  /** Progress lines for the terminal. */
  say?: (msg: string) => void;
  /** pino level of the tailer/edge logs, written to <dir>/cachetail.log (default info). */
  logLevel?: string;
}

export interface DemoUrls {
  dashboard: string;
  edge: string;
  masterApp: string;
  replicaApp: string;
  status: string;
  metrics: string;
}

export interface DemoStack {
  info: ClusterInfo;
  urls: DemoUrls;
  /** The tailer/edge log file. */
  logFile: string;
  scenario: Scenario;
  recentKeys: RecentKeys;
  /** Resolves when the background Kafka start has finished (either way); its outcome, for printing. */
  kafka: Promise<{ ok: true; brokers: string[] } | { ok: false; reason: string }> | null;
  stop(): Promise<void>;
}

const address = (e: ServerEndpoint): string => `${e.host}:${e.port}`;

export async function startDemo(opts: DemoOptions = {}): Promise<DemoStack> {
  const say = opts.say ?? (() => undefined);
  const ports = { ...(opts.cluster ? ANY_PORTS : PREFERRED_PORTS), ...opts.ports };
  const cleanups: (() => Promise<unknown>)[] = [];
  const stop = async (): Promise<void> => {
    // Reverse order; every step runs even when an earlier one fails.
    for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined);
  };
  try {
    let cluster: ClusterControl;
    if (opts.cluster) {
      cluster = opts.cluster;
    } else {
      const owned = await startCluster({ log: (msg) => say(`  ${msg}`) });
      cleanups.push(() => owned.stop());
      cluster = clusterControl(owned.info);
    }
    const info = cluster.info;
    // Our own state next to the cluster's (so the stale-cluster sweep takes it too), or a temp dir.
    const dir = opts.cluster ? await mkdtemp(join(tmpdir(), 'cachetail-demo-')) : join(info.baseDir, 'demo');
    await mkdir(dir, { recursive: true });
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const logFile = join(dir, 'cachetail.log');
    // Synchronous writes: a demo logs little, and nothing is lost when it stops.
    const dest = pino.destination({ dest: logFile, sync: true, mkdir: true });
    cleanups.push(() => Promise.resolve(dest.end()));
    const log = createLogger(opts.logLevel ?? 'info', dest);

    const pools = {
      primary: pool(info.primary, info),
      replica: pool(info.replica, info),
    };
    cleanups.push(() => Promise.all([pools.primary.end(), pools.replica.end()]));
    const quiet = { logger: { log: () => undefined } };
    const caches = {
      master: memjs.Client.create(info.memcached.master, quiet),
      replica: memjs.Client.create(info.memcached.replica, quiet),
    };
    cleanups.push(() => {
      caches.master.close();
      caches.replica.close();
      return Promise.resolve();
    });

    await createSchema(pools.primary);
    await cluster.waitForReplicaCatchUp();
    say('  demo: schema and users ready');

    // The replica region's tailer, as `cachetail tail` builds it.
    const config = tailerConfigSchema.parse({
      region: REPLICA_REGION,
      source: {
        host: info.replica.host,
        port: info.replica.port,
        user: info.tailerUser.user,
        password: info.tailerUser.password,
      },
      memcached: { servers: [info.memcached.replica] },
      stateDir: join(dir, 'tailer-state'),
    });
    const registry = new Registry();
    const metrics = createTailerMetrics(registry, { servers: config.memcached.servers });
    const { tailer, sink, checkpointPath } = createTailer(config, log, metrics);
    const recentKeys = new RecentKeys();
    // The consistency sampler as an operator would run it, but checking every key (a demo makes few):
    // 1 s and 10 s after each delete, virginia's cache must not hold anything older than its replica.
    const sampler = createConsistencySampler({
      every: 1,
      delaysMs: [1_000, 10_000],
      readCache: memcachedEnvelopeReader(caches.replica, PROFILE_TYPE),
      readTruth: async (key) => {
        const login = loginOf(key);
        return JSON.stringify(login === null ? null : await loadUser(pools.replica, login));
      },
      registry,
      log: log.child({ module: 'sampler' }),
    });
    cleanups.push(() => Promise.resolve(sampler.stop()));
    observeDeliveries(sink, (batch) => {
      recentKeys.addBatch(batch, Date.now());
      sampler.observe(batch.transactions);
    });
    cleanups.push(() => sink.close());
    cleanups.push(() => tailer.stop(2_000));
    await tailer.start();
    say('  demo: tailer streaming from the replica');

    // Apps first, the edge in front of them, the status server last (its dashboard links to all).
    const apps = {
      master: await buildDemoApp({
        region: MASTER_REGION,
        role: 'master',
        readDb: pools.primary,
        primary: pools.primary,
        cache: caches.master,
      }),
      replica: await buildDemoApp({
        region: REPLICA_REGION,
        role: 'replica',
        readDb: pools.replica,
        primary: pools.primary,
        cache: caches.replica,
      }),
    };
    cleanups.push(() => Promise.all([apps.master.close(), apps.replica.close()]));
    const masterPort = await listenPreferred(apps.master, ports.masterApp);
    const replicaPort = await listenPreferred(apps.replica, ports.replicaApp);
    const upstreams = {
      [MASTER_REGION]: `http://${DEMO_HOST}:${masterPort}`,
      [REPLICA_REGION]: `http://${DEMO_HOST}:${replicaPort}`,
    };

    const status = () => tailerStatus(tailer, config.region, checkpointPath);
    // The edge reads the tailer's /status and the dashboard links to the edge: pick the status port
    // first, build the edge, then listen.
    const dashboardPort = await pickPort(ports.dashboard);
    const statusUrl = `http://${DEMO_HOST}:${dashboardPort}/status`;
    const edgeConfig = edgeConfigSchema.parse({
      region: REPLICA_REGION,
      masterRegion: MASTER_REGION,
      upstreams,
      // A fresh random key per run: the demo's cookies mean nothing after it stops. Never printed.
      cookie: { keys: [`demo:${randomBytes(32).toString('base64url')}`], secure: false },
      tailers: { statusUrls: [statusUrl] },
    });
    const router = createEdgeRouter(edgeConfig, { registry, log });
    const edge = await buildEdgeProxy({
      router,
      upstreams: edgeConfig.upstreams,
      timeoutMs: 10_000,
      accessLog: log.child({ module: 'edge-access' }),
      log: log.child({ module: 'edge' }),
    });
    cleanups.push(() => edge.close());
    const edgePort = await listenPreferred(edge, ports.edge);
    const edgeUrl = `http://${DEMO_HOST}:${edgePort}`;

    const scenario = new Scenario({
      cluster,
      edgeUrl,
      primary: pools.primary,
      caches,
      regions: { master: MASTER_REGION, replica: REPLICA_REGION },
      recentKeys,
      paceMs: opts.paceMs ?? 700,
    });
    let kafka: DemoKafka | null = null;
    const kafkaView = (): DashboardState['kafka'] => kafka?.status() ?? null;
    const dashboardServer = buildStatusServer({
      status,
      registry,
      log,
      extraRoutes: dashboardRoutes({
        status,
        registry,
        recentKeys,
        scenario,
        kafka: kafkaView,
        consistency: () => ({ report: sampler.report(), target: CONSISTENCY_TARGET }),
        regions: regionsProvider({
          watchLogin: SCENARIO_LOGIN,
          regions: [
            {
              name: MASTER_REGION,
              role: 'master',
              db: pools.primary,
              dbAddress: address(info.primary),
              cache: caches.master,
              cacheAddress: info.memcached.master,
              appUrl: `${upstreams[MASTER_REGION]}/users/${SCENARIO_LOGIN}`,
            },
            {
              name: REPLICA_REGION,
              role: 'replica',
              db: pools.replica,
              dbAddress: address(info.replica),
              cache: caches.replica,
              cacheAddress: info.memcached.replica,
              appUrl: `${upstreams[REPLICA_REGION]}/users/${SCENARIO_LOGIN}`,
            },
          ],
        }),
        links: [
          { label: `edge (${REPLICA_REGION})`, url: `${edgeUrl}/users/${SCENARIO_LOGIN}` },
          { label: '/status', url: statusUrl },
          { label: '/metrics', url: `http://${DEMO_HOST}:${dashboardPort}/metrics` },
        ],
      }),
    });
    cleanups.push(() => dashboardServer.close());
    await dashboardServer.listen({ host: DEMO_HOST, port: dashboardPort });
    say('  demo: apps, edge and dashboard listening');

    let kafkaOutcome: DemoStack['kafka'] = null;
    if (opts.kafka) {
      const starter = opts.kafka;
      kafkaOutcome = starter.start(config, log, info).then(
        (k) => {
          kafka = k;
          cleanups.push(() => k.stop());
          return { ok: true as const, brokers: k.status()?.brokers ?? [] };
        },
        (err: unknown) => ({ ok: false as const, reason: err instanceof Error ? err.message : String(err) }),
      );
      // Stopping must wait for a start in progress, or it would leave a tailer running.
      cleanups.push(() => kafkaOutcome!);
    }

    const base = `http://${DEMO_HOST}:${dashboardPort}`;
    return {
      info,
      urls: {
        dashboard: `${base}/dashboard/`,
        edge: edgeUrl,
        masterApp: upstreams[MASTER_REGION],
        replicaApp: upstreams[REPLICA_REGION],
        status: statusUrl,
        metrics: `${base}/metrics`,
      },
      logFile,
      scenario,
      recentKeys,
      kafka: kafkaOutcome,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function pool(endpoint: ServerEndpoint, info: ClusterInfo): Pool {
  return createPool({
    host: endpoint.host,
    port: endpoint.port,
    user: info.root.user,
    password: info.root.password,
    connectionLimit: 4,
  });
}

async function createSchema(primary: Pool): Promise<void> {
  await primary.query(`CREATE DATABASE IF NOT EXISTS ${DEMO_DB}`);
  await primary.query(
    `CREATE TABLE IF NOT EXISTS ${DEMO_DB}.users (login VARCHAR(32) PRIMARY KEY, name VARCHAR(64) NOT NULL) ENGINE=InnoDB`,
  );
  await primary.query(carrierTableDdl(CARRIER_TABLE));
  await primary.query(
    `INSERT INTO ${DEMO_DB}.users (login, name) VALUES (?, ?), ('alice', 'Alice'), ('bob', 'Bob')
     ON DUPLICATE KEY UPDATE name = VALUES(name)`,
    [SCENARIO_LOGIN, OLD_NAME],
  );
}
