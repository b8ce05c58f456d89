// The two-region cluster: a database primary (master region) replicating to a replica (replica region)
// of one server line (lines.ts: MariaDB 10.11, MariaDB 11.8 or MySQL 9.7), and one memcached per region. Kafka is not part of startup; see kafka.ts (`ensureKafka`).
//
// Everything lives under one base dir: datadirs, sockets, logs, and `pids/` (one file per process we
// started). That registry is what makes teardown work across processes: the vitest global setup starts the
// cluster, a test worker may add Kafka, and whoever stops the cluster stops every PID listed there.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Connection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { GtidState } from '../binlog/gtid-set.js';
import type { DbDriver } from './db.js';
import { dbDriver, driverIn } from './drivers.js';
import { DEFAULT_LINE, lineSpec, SERVER_LINES, type ServerFlavor, type ServerLine } from './lines.js';
import { startMemcached } from './memcached.js';
import { rootPath } from './roots.js';
import { connect, ROOT, TAILER, withConnection } from './sql.js';
import type { Credentials, ServerEndpoint } from './sql.js';
import { DevclusterError, isAlive, killRegisteredSync, stopRegistered } from './proc.js';
import { startReaper } from './reaper.js';

/** Which database the cluster runs. */
export interface ClusterServer {
  line: ServerLine;
  flavor: ServerFlavor;
  /** What the primary reports as VERSION(), e.g. `9.7.4-2` or `11.8.9-MariaDB-0+deb13u1-log`. */
  version: string;
  /** The chroot the servers run in (null: the host's own binaries). */
  root: string | null;
  /** The bootstrapped datadir both servers were copied from; extra servers can copy it too. */
  template: string;
}

export interface ClusterInfo {
  /** Private to this cluster; removed by stop(). Holds logs, which is where to look when a test fails. */
  baseDir: string;
  server: ClusterServer;
  primary: ServerEndpoint;
  replica: ServerEndpoint;
  /** Admin on both servers. */
  root: Credentials;
  /** The limited replication account the tailer uses on the replica (see TAILER_GRANTS). */
  tailerUser: Credentials;
  /** `host:port` of each region's memcached tier. */
  memcached: { master: string; replica: string };
}

export type ServerRole = 'primary' | 'replica';
type QueryResult = RowDataPacket[] | RowDataPacket[][] | ResultSetHeader | ResultSetHeader[];

/** What a test (or the demo) needs to drive a running cluster; works from any process given ClusterInfo. */
export interface ClusterControl {
  readonly info: ClusterInfo;
  /** A new connection (root unless `user` says otherwise); the caller ends it. */
  connect(server: ServerRole, opts?: { user?: Credentials; database?: string }): Promise<Connection>;
  /** One statement (or several, separated by `;`) as root on a fresh connection; returns the result. */
  query<T extends QueryResult = RowDataPacket[]>(
    server: ServerRole,
    sql: string,
    params?: unknown[],
  ): Promise<T>;
  /** The line's driver: its dialect (`driver.sql`), grants, and server starts for extra servers. */
  readonly driver: DbDriver;
  /** Everything the server has binlogged, as its GTID state (MariaDB gtid_binlog_pos, MySQL gtid_executed). */
  gtidState(server: ServerRole): Promise<string>;
  /** STOP SLAVE/REPLICA SQL_THREAD: the replica keeps fetching but stops applying, so it lags on purpose. */
  stopReplicaSql(): Promise<void>;
  startReplicaSql(): Promise<void>;
  /**
   * The replica's GTIDs: `fetched` by its IO thread into the relay log, `applied` by its SQL thread
   * (MariaDB Gtid_IO_Pos / @@gtid_slave_pos; MySQL Retrieved_Gtid_Set / @@gtid_executed).
   */
  replicaGtids(): Promise<{ fetched: string; applied: string }>;
  /**
   * Waits until the replica has fetched the transaction `gtid` (e.g. the writer's, from lastWriteGtid)
   * and checks that it has not applied it — the replica lags with the write in its relay log (the SQL
   * thread stopped). TIMEOUT when it is not fetched in time (default 15 s), UNEXPECTED_STATE when applied.
   */
  waitForFetchedNotApplied(gtid: string, timeoutMs?: number): Promise<void>;
  /** Waits until the replica applied everything the primary had written when called (default 30 s). */
  waitForReplicaCatchUp(timeoutMs?: number): Promise<void>;
}

export interface Cluster extends ClusterControl {
  /** Stops every process started for this cluster (Kafka included) by PID and removes the base dir. */
  stop(opts?: { keepFiles?: boolean }): Promise<void>;
}

export interface StartOptions {
  /** Defaults to a fresh directory under the OS temp dir. Must be empty or a previous cluster's dir. */
  baseDir?: string;
  log?: (msg: string) => void;
  /** The database server line (default mariadb-10.11); a line with a root builds it first if needed. */
  line?: ServerLine;
  /**
   * Kill the cluster on SIGINT/SIGTERM/SIGHUP when no other listener handles the signal (default true).
   * An 'exit' handler that kills it is always installed.
   */
  handleSignals?: boolean;
}

/** Base dirs under the OS temp dir start with this; the stale sweep looks for it (extra.ts uses it too). */
export const TMP_PREFIX = 'cachetail-dc-';
/** The PID of the process that owns a base dir; a dir whose owner is gone is swept. */
export const OWNER_FILE = 'owner.pid';

export function clusterControl(info: ClusterInfo): ClusterControl {
  const endpoint = (server: ServerRole) => (server === 'primary' ? info.primary : info.replica);
  const driver = driverIn(info.server.line, info.server.root);
  return {
    info,
    driver,
    connect: (server, opts = {}) => connect(endpoint(server), opts.user ?? info.root, opts.database),
    query: <T extends QueryResult>(server: ServerRole, sql: string, params: unknown[] = []) =>
      withConnection(endpoint(server), info.root, async (conn) => (await conn.query<T>(sql, params))[0]),
    gtidState: async (server) =>
      withConnection(endpoint(server), info.root, async (conn) => {
        const [rows] = await conn.query<RowDataPacket[]>(driver.sql.gtidState);
        return String(rows[0]?.gtid ?? '').replace(/\s+/g, '');
      }),
    stopReplicaSql: async () => {
      await withConnection(info.replica, info.root, (conn) => conn.query(driver.sql.stopReplicaSql));
    },
    startReplicaSql: async () => {
      await withConnection(info.replica, info.root, (conn) => conn.query(driver.sql.startReplicaSql));
    },
    waitForReplicaCatchUp: (timeoutMs = 30_000) =>
      driver.waitForReplicaCatchUp(info.primary, info.replica, timeoutMs),
    replicaGtids: () => replicaGtids(),
    waitForFetchedNotApplied: async (gtid, timeoutMs = 15_000) => {
      const flavor = info.server.flavor;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const now = await replicaGtids();
        if (GtidState.parse(now.fetched, flavor).hasReached(gtid)) {
          if (GtidState.parse(now.applied, flavor).hasReached(gtid)) {
            throw new DevclusterError(
              'UNEXPECTED_STATE',
              `the replica already applied ${gtid} (applied ${now.applied}): it was meant only to fetch it`,
            );
          }
          return;
        }
        if (Date.now() > deadline) {
          throw new DevclusterError(
            'TIMEOUT',
            `the replica did not fetch ${gtid} within ${timeoutMs} ms (fetched ${now.fetched})`,
          );
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };

  async function replicaGtids(): Promise<{ fetched: string; applied: string }> {
    return withConnection(info.replica, info.root, async (conn) => {
      const [status] = await conn.query<RowDataPacket[]>(driver.sql.replicaStatus);
      const [applied] = await conn.query<RowDataPacket[]>(driver.sql.appliedGtids);
      // MySQL breaks long GTID sets over lines.
      const text = (v: unknown) => (typeof v === 'string' ? v.replace(/\s+/g, '') : '');
      return { fetched: text(status[0]?.[driver.sql.fetchedGtidsColumn]), applied: text(applied[0]?.gtid) };
    });
  }
}

export async function startCluster(opts: StartOptions = {}): Promise<Cluster> {
  const log = opts.log ?? (() => undefined);
  const started = Date.now();
  const since = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
  const line = opts.line ?? DEFAULT_LINE;
  const driver = await dbDriver(line, log);
  if (!opts.baseDir) sweepStaleClusters(log);
  const baseDir = opts.baseDir ?? (await mkdtemp(join(driver.tmpDir, TMP_PREFIX)));
  await prepareBaseDir(baseDir);
  await writeFile(join(baseDir, OWNER_FILE), `${process.pid}\n`);

  // A cluster must not outlive its owner. If the process ends without calling stop() (an uncaught error,
  // Ctrl-C, CI's SIGTERM to the runner) these handlers SIGKILL the registered PIDs and delete the dir;
  // only synchronous work can run there. A signal that nobody else listens for would kill the process
  // without an 'exit' event, so we clean up and re-raise it; when the application listens too (the demo
  // stops gracefully on Ctrl-C), shutdown is its job and the exit handler stays as the safety net. The
  // reaper does the same when even the exit handler cannot run (SIGKILL).
  const reaper = startReaper(baseDir);
  const onExit = () => killRegisteredSync(baseDir, true);
  const onSignal = (sig: NodeJS.Signals) => {
    if (process.listeners(sig).some((listener) => listener !== onSignal)) return;
    removeHandlers();
    onExit();
    process.kill(process.pid, sig);
  };
  const signals: NodeJS.Signals[] = opts.handleSignals === false ? [] : ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const removeHandlers = () => {
    process.off('exit', onExit);
    for (const sig of signals) process.off(sig, onSignal);
  };
  process.on('exit', onExit);
  for (const sig of signals) process.on(sig, onSignal);

  let stopped = false;
  const stop = async ({ keepFiles = false } = {}) => {
    if (stopped) return;
    stopped = true;
    await stopRegistered(baseDir);
    if (!keepFiles) await rm(baseDir, { recursive: true, force: true });
    // Only now: a process that exits half-way through this stop (a forced stop) still kills what is left.
    removeHandlers();
    reaper.release();
  };

  try {
    log(`devcluster: ${line} base dir ${baseDir}`);
    const template = await driver.createTemplateDatadir(baseDir);
    log(`devcluster: template datadir ready (${since()})`);
    // allSettled, not all: on a failure no sibling may still be mid-spawn when stop() reads the registry.
    const results = await Promise.allSettled([
      driver.startServer({ baseDir, name: 'primary', serverId: 1, template }),
      driver.startServer({ baseDir, name: 'replica', serverId: 2, template }),
      startMemcached({ baseDir, name: 'memcached-master' }),
      startMemcached({ baseDir, name: 'memcached-replica' }),
    ]);
    const [primary, replica, mcMaster, mcReplica] = [
      value(results[0]),
      value(results[1]),
      value(results[2]),
      value(results[3]),
    ];
    log(`devcluster: servers up (${since()})`);
    const version = await serverVersion(primary.endpoint, line);
    await driver.configureReplication(primary.endpoint, replica.endpoint);
    log(`devcluster: ${line} (${version}) replication running (${since()})`);
    const info: ClusterInfo = {
      baseDir,
      server: { line, flavor: driver.flavor, version, root: driver.root, template },
      primary: primary.endpoint,
      replica: replica.endpoint,
      root: ROOT,
      tailerUser: TAILER,
      memcached: { master: mcMaster.address, replica: mcReplica.address },
    };
    await writeFile(join(baseDir, 'cluster.json'), `${JSON.stringify(info, null, 2)}\n`);
    return { ...clusterControl(info), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** VERSION() of a started server; a root holding another version than its line's is refused. */
async function serverVersion(endpoint: ServerEndpoint, line: ServerLine): Promise<string> {
  const version = await withConnection(endpoint, ROOT, async (conn) => {
    const [rows] = await conn.query<RowDataPacket[]>('SELECT VERSION() AS v');
    return String(rows[0]?.v ?? '');
  });
  const want = lineSpec(line).versionPrefix;
  if (!version.startsWith(want)) {
    throw new DevclusterError(
      'START_FAILED',
      `the ${line} server reports version ${version}, not ${want}x: rebuild its root ` +
        `(remove ${rootPath(line) ?? 'the host package'} and start again)`,
    );
  }
  return version;
}

function value<T>(result: PromiseSettledResult<T>): T {
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}

async function prepareBaseDir(baseDir: string): Promise<void> {
  await mkdir(baseDir, { recursive: true });
  const entries = await readdir(baseDir);
  if (entries.length === 0) return;
  if (!entries.includes(OWNER_FILE)) {
    throw new DevclusterError(
      'START_FAILED',
      `devcluster base dir ${baseDir} is not empty and not a devcluster dir`,
    );
  }
  const owner = Number(readFileSync(join(baseDir, OWNER_FILE), 'utf8'));
  if (owner !== process.pid && isAlive(owner)) {
    throw new DevclusterError('START_FAILED', `devcluster base dir ${baseDir} is in use by PID ${owner}`);
  }
  killRegisteredSync(baseDir, false);
  await Promise.all(entries.map((e) => rm(join(baseDir, e), { recursive: true, force: true })));
}

/**
 * Clusters whose owning process died without cleaning up (SIGKILL, OOM, a crashed runner) would leak
 * servers and disk. Their processes are found through the PID registry and killed only after
 * `isOurs` confirmed the PID still belongs to that dir.
 */
function sweepStaleClusters(log: (msg: string) => void): void {
  const parents = [tmpdir(), ...SERVER_LINES.map(rootPath).flatMap((r) => (r ? [join(r, 'tmp')] : []))];
  const dirs: string[] = [];
  for (const parent of parents) {
    try {
      for (const n of readdirSync(parent)) if (n.startsWith(TMP_PREFIX)) dirs.push(join(parent, n));
    } catch {
      // no such root
    }
  }
  for (const dir of dirs) {
    const ownerFile = join(dir, OWNER_FILE);
    if (!existsSync(ownerFile)) continue; // being created right now, or not ours
    const owner = Number(readFileSync(ownerFile, 'utf8'));
    if (isAlive(owner)) continue;
    log(`devcluster: removing stale cluster ${dir} (owner PID ${owner} is gone)`);
    killRegisteredSync(dir, true);
  }
}
