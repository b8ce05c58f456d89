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
import { carrierTableDdl } from '../app/index.js';
import { edgeConfigSchema } from '../config/edge.js';
import type { TailerConfig } from '../config/schema.js';
import { dashboardRoutes, type DashboardDeps, type RecentKeys } from '../dashboard/index.js';
import { clusterControl, startCluster, type ClusterControl, type ClusterInfo } from '../devcluster/index.js';
import type { ServerEndpoint } from '../devcluster/index.js';
import { buildEdgeProxy, createEdgeRouter } from '../edge/index.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { buildStatusServer } from '../observability/status-server.js';
import { buildDemoApp, CARRIER_TABLE, DEMO_DB } from './app.js';
import { Cleanups } from './cleanups.js';
import type { DemoKafka } from './kafka.js';
import { DEMO_HOST, listenPreferred, pickPort } from './ports.js';
import { regionsProvider } from './regions.js';
import { startReplicaTailer, type ReplicaTailer } from './replica-tailer.js';
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

interface DemoClients {
  pools: { primary: Pool; replica: Pool };
  caches: { master: memjs.Client; replica: memjs.Client };
}

type Upstreams = Record<typeof MASTER_REGION | typeof REPLICA_REGION, string>;

/** The Kafka side once its background start has succeeded (until then the dashboard shows none). */
interface KafkaSlot {
  current: DemoKafka | null;
}

export async function startDemo(opts: DemoOptions = {}): Promise<DemoStack> {
  const say = opts.say ?? (() => undefined);
  const ports = { ...(opts.cluster ? ANY_PORTS : PREFERRED_PORTS), ...opts.ports };
  const cleanups = new Cleanups();
  try {
    const cluster = await useCluster(opts.cluster, say, cleanups);
    const info = cluster.info;
    const dir = await demoDir(Boolean(opts.cluster), info, cleanups);
    const logFile = join(dir, 'cachetail.log');
    const log = openLog(logFile, opts.logLevel ?? 'info', cleanups);
    const clients = openClients(info, cleanups);

    await createSchema(clients.pools.primary);
    await cluster.waitForReplicaCatchUp();
    say('  demo: schema and users ready');

    const replica = { db: clients.pools.replica, cache: clients.caches.replica };
    const tailer = await startReplicaTailer({ region: REPLICA_REGION, info, dir, log, ...replica }, cleanups);
    say('  demo: tailer streaming from the replica');

    // Apps first, the edge in front of them, the status server last (its dashboard links to all).
    const upstreams = await listenApps(clients, ports, cleanups);
    // The edge reads the tailer's /status and the dashboard links to the edge: pick the status port
    // first, build the edge, then listen.
    const dashboardPort = await pickPort(ports.dashboard);
    const base = `http://${DEMO_HOST}:${dashboardPort}`;
    const statusUrl = `${base}/status`;
    const edgeUrl = await listenEdge({ upstreams, statusUrl, tailer, log, port: ports.edge }, cleanups);
    const urls: DemoUrls = {
      dashboard: `${base}/dashboard/`,
      edge: edgeUrl,
      masterApp: upstreams[MASTER_REGION],
      replicaApp: upstreams[REPLICA_REGION],
      status: statusUrl,
      metrics: `${base}/metrics`,
    };
    const scenario = demoScenario({ cluster, edgeUrl, clients, tailer, paceMs: opts.paceMs ?? 700 });
    const kafka: KafkaSlot = { current: null };
    const regions = demoRegions(info, clients, upstreams);
    await listenDashboard({ tailer, scenario, kafka, regions, urls, log, port: dashboardPort }, cleanups);
    say('  demo: apps, edge and dashboard listening');

    const kafkaOutcome = opts.kafka
      ? startKafka(opts.kafka, tailer.config, log, info, kafka, cleanups)
      : null;
    return {
      info,
      urls,
      logFile,
      scenario,
      recentKeys: tailer.recentKeys,
      kafka: kafkaOutcome,
      stop: () => cleanups.runAll(),
    };
  } catch (err) {
    await cleanups.runAll();
    throw err;
  }
}

/** The cluster given, or one started here (and stopped with the demo). */
async function useCluster(
  given: ClusterControl | undefined,
  say: (msg: string) => void,
  cleanups: Cleanups,
): Promise<ClusterControl> {
  if (given) return given;
  const owned = await startCluster({ log: (msg) => say(`  ${msg}`) });
  cleanups.add(() => owned.stop());
  return clusterControl(owned.info);
}

/** Our own state next to the cluster's (so the stale-cluster sweep takes it too), or a temp dir. */
async function demoDir(sharedCluster: boolean, info: ClusterInfo, cleanups: Cleanups): Promise<string> {
  const dir = sharedCluster ? await mkdtemp(join(tmpdir(), 'cachetail-demo-')) : join(info.baseDir, 'demo');
  await mkdir(dir, { recursive: true });
  cleanups.add(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function openLog(logFile: string, level: string, cleanups: Cleanups): Logger {
  // Synchronous writes: a demo logs little, and nothing is lost when it stops.
  const dest = pino.destination({ dest: logFile, sync: true, mkdir: true });
  cleanups.add(() => Promise.resolve(dest.end()));
  return createLogger(level, dest);
}

/** Root pools on both databases, a memcached client per region. */
function openClients(info: ClusterInfo, cleanups: Cleanups): DemoClients {
  const pools = {
    primary: pool(info.primary, info),
    replica: pool(info.replica, info),
  };
  cleanups.add(() => Promise.all([pools.primary.end(), pools.replica.end()]));
  const quiet = { logger: { log: () => undefined } };
  const caches = {
    master: memjs.Client.create(info.memcached.master, quiet),
    replica: memjs.Client.create(info.memcached.replica, quiet),
  };
  cleanups.add(() => {
    caches.master.close();
    caches.replica.close();
    return Promise.resolve();
  });
  return { pools, caches };
}

/** One demo app per region, listening; their URLs by region. */
async function listenApps(
  { pools, caches }: DemoClients,
  ports: DemoPorts,
  cleanups: Cleanups,
): Promise<Upstreams> {
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
  cleanups.add(() => Promise.all([apps.master.close(), apps.replica.close()]));
  const masterPort = await listenPreferred(apps.master, ports.masterApp);
  const replicaPort = await listenPreferred(apps.replica, ports.replicaApp);
  return {
    [MASTER_REGION]: `http://${DEMO_HOST}:${masterPort}`,
    [REPLICA_REGION]: `http://${DEMO_HOST}:${replicaPort}`,
  };
}

/** The replica region's edge proxy in front of both apps, listening; its URL. */
async function listenEdge(
  d: { upstreams: Upstreams; statusUrl: string; tailer: ReplicaTailer; log: Logger; port: number },
  cleanups: Cleanups,
): Promise<string> {
  const edgeConfig = edgeConfigSchema.parse({
    region: REPLICA_REGION,
    masterRegion: MASTER_REGION,
    upstreams: d.upstreams,
    // A fresh random key per run: the demo's cookies mean nothing after it stops. Never printed.
    cookie: { keys: [`demo:${randomBytes(32).toString('base64url')}`], secure: false },
    tailers: { statusUrls: [d.statusUrl] },
  });
  const router = createEdgeRouter(edgeConfig, { registry: d.tailer.registry, log: d.log });
  const edge = await buildEdgeProxy({
    router,
    upstreams: edgeConfig.upstreams,
    timeoutMs: 10_000,
    accessLog: d.log.child({ module: 'edge-access' }),
    log: d.log.child({ module: 'edge' }),
  });
  cleanups.add(() => edge.close());
  const edgePort = await listenPreferred(edge, d.port);
  return `http://${DEMO_HOST}:${edgePort}`;
}

/** The dashboard's scenario: its requests go through the edge. */
function demoScenario(d: {
  cluster: ClusterControl;
  edgeUrl: string;
  clients: DemoClients;
  tailer: ReplicaTailer;
  paceMs: number;
}): Scenario {
  return new Scenario({
    cluster: d.cluster,
    edgeUrl: d.edgeUrl,
    primary: d.clients.pools.primary,
    caches: d.clients.caches,
    regions: { master: MASTER_REGION, replica: REPLICA_REGION },
    recentKeys: d.tailer.recentKeys,
    paceMs: d.paceMs,
  });
}

/** Both regions side by side on the dashboard, watching the scenario's user. */
function demoRegions(info: ClusterInfo, { pools, caches }: DemoClients, upstreams: Upstreams) {
  return regionsProvider({
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
  });
}

/** The tailer's status server with the dashboard mounted, listening. */
async function listenDashboard(
  d: {
    tailer: ReplicaTailer;
    scenario: Scenario;
    kafka: KafkaSlot;
    regions: DashboardDeps['regions'];
    urls: DemoUrls;
    log: Logger;
    port: number;
  },
  cleanups: Cleanups,
): Promise<void> {
  const { status, registry, recentKeys, sampler } = d.tailer;
  const dashboardServer = buildStatusServer({
    status,
    registry,
    log: d.log,
    extraRoutes: dashboardRoutes({
      status,
      registry,
      recentKeys,
      scenario: d.scenario,
      kafka: () => d.kafka.current?.status() ?? null,
      consistency: () => ({ report: sampler.report(), target: CONSISTENCY_TARGET }),
      regions: d.regions,
      links: [
        { label: `edge (${REPLICA_REGION})`, url: `${d.urls.edge}/users/${SCENARIO_LOGIN}` },
        { label: '/status', url: d.urls.status },
        { label: '/metrics', url: d.urls.metrics },
      ],
    }),
  });
  cleanups.add(() => dashboardServer.close());
  await dashboardServer.listen({ host: DEMO_HOST, port: d.port });
}

/** Starts Kafka in the background; resolves with its outcome, for printing. */
function startKafka(
  starter: NonNullable<DemoOptions['kafka']>,
  config: TailerConfig,
  log: Logger,
  info: ClusterInfo,
  slot: KafkaSlot,
  cleanups: Cleanups,
): NonNullable<DemoStack['kafka']> {
  const outcome = starter.start(config, log, info).then(
    (k) => {
      slot.current = k;
      return { ok: true as const, brokers: k.status()?.brokers ?? [] };
    },
    (err: unknown) => ({ ok: false as const, reason: err instanceof Error ? err.message : String(err) }),
  );
  // Stopping waits for a start in progress, then stops what it started: a step added once stopping had
  // begun would never run, and a slow start stopped half-way would leave its tailer running.
  cleanups.add(async () => {
    await outcome;
    await slot.current?.stop();
  });
  return outcome;
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
