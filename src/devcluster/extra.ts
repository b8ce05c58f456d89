// Extra database servers (of any server line) beside the shared cluster, for tests that need a
// deliberately misconfigured deployment (a replica without log_slave_updates, a STATEMENT-format primary behind a ROW replica).
//
// They live in their own base dir with its own PID registry and owner file, never in the shared
// cluster's: the shared servers stay exactly as every other test expects them. stop() ends them by PID;
// an 'exit' handler SIGKILLs them if the owning process ends first; and because the dir carries the same
// prefix and owner file as a cluster dir, the next startCluster's stale sweep removes what a SIGKILLed
// test worker left behind.
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { OWNER_FILE, TMP_PREFIX } from './cluster.js';
import type { DbDriver } from './db.js';
import { dbDriver } from './drivers.js';
import { DEFAULT_LINE, type ServerLine } from './lines.js';
import { connect, ROOT, TAILER, withConnection } from './sql.js';
import type { Credentials, ServerEndpoint } from './sql.js';
import { DevclusterError, killRegisteredSync, registeredPids, stopPid, stopRegistered } from './proc.js';
import { repointReplica } from './switchover.js';

export interface ExtraServerOptions {
  /** Unique among this group's servers: directory and PID registry name. */
  name: string;
  serverId: number;
  /** Server options after the line's defaults (ROW, annotations, log_slave/replica_updates ON, GTIDs). */
  options?: readonly string[];
}

export interface ExtraPairOptions {
  /** Prefix of the two server names (`<name>-primary`, `<name>-replica`). */
  name: string;
  primaryOptions?: readonly string[];
  replicaOptions?: readonly string[];
  /** Default: two fresh ids per pair (101/102, 111/112, …), distinct from the shared cluster's 1 and 2. */
  serverIds?: { primary: number; replica: number };
}

/** A started primary → replica pair, configured like the shared cluster (accounts, GTID replication). */
export interface ExtraPair {
  primary: ServerEndpoint;
  replica: ServerEndpoint;
  root: Credentials;
  /** Created on the primary with TAILER_GRANTS; replicated to the replica. */
  tailerUser: Credentials;
  /** One statement (or several) as root on a fresh connection. */
  query<T extends RowDataPacket[] = RowDataPacket[]>(
    server: 'primary' | 'replica',
    sql: string,
    params?: unknown[],
  ): Promise<T>;
  connect(server: 'primary' | 'replica', who?: Credentials): Promise<Connection>;
  waitForReplicaCatchUp(timeoutMs?: number): Promise<void>;
}

export interface ExtraServers {
  readonly baseDir: string;
  readonly driver: DbDriver;
  startServer(opts: ExtraServerOptions): Promise<ServerEndpoint>;
  startPair(opts: ExtraPairOptions): Promise<ExtraPair>;
  /**
   * Starts a server that replicates from `source` by GTID auto-positioning (a third server beside a
   * pair: a second replica, a primary-to-be), and waits until it caught up. The accounts reach it
   * through replication.
   */
  startReplicaOf(source: ServerEndpoint, opts: ExtraServerOptions): Promise<ServerEndpoint>;
  /**
   * Stops a server gracefully (SIGTERM by PID), waits `downMs`, and starts it again on the same port
   * with the same data — a replica resumes replicating by itself.
   */
  restartServer(name: string, opts?: { downMs?: number }): Promise<ServerEndpoint>;
  /** PIDs of the servers started so far, by name (from the registry). */
  pids(): Map<string, number>;
  /** Stops every server of this group by PID and removes the base dir. Safe to call twice. */
  stop(opts?: { keepFiles?: boolean }): Promise<void>;
}

/**
 * A group of extra servers of one line (default mariadb-10.11). `template` may name an existing
 * bootstrapped datadir of the same line to copy (the shared cluster's `info.server.template`) to skip a
 * bootstrap; without one the group bootstraps its own.
 */
export async function createExtraServers(
  opts: { template?: string; line?: ServerLine } = {},
): Promise<ExtraServers> {
  const driver = await dbDriver(opts.line ?? DEFAULT_LINE);
  const baseDir = await mkdtemp(join(driver.tmpDir, TMP_PREFIX));
  await writeFile(join(baseDir, OWNER_FILE), `${process.pid}\n`);
  const onExit = () => killRegisteredSync(baseDir, true);
  process.on('exit', onExit);

  let templatePromise: Promise<string> | undefined;
  const template = (): Promise<string> => {
    templatePromise ??= (async () => {
      if (opts.template && existsSync(opts.template)) {
        // A private copy: the source belongs to another process, which may delete it while we start.
        const own = join(baseDir, driver.templateName);
        await cp(opts.template, own, { recursive: true });
        return own;
      }
      return driver.createTemplateDatadir(baseDir);
    })();
    return templatePromise;
  };

  let stopped = false;
  let nextId = 101;
  const names = new Set<string>();
  const started = new Map<string, { server: ExtraServerOptions; port: number }>();

  const startServer = async (server: ExtraServerOptions): Promise<ServerEndpoint> => {
    if (stopped) throw new DevclusterError('NOT_RUNNING', `extra servers in ${baseDir} were stopped`);
    if (names.has(server.name)) {
      throw new DevclusterError('START_FAILED', `an extra server named ${server.name} already exists`);
    }
    names.add(server.name);
    const s = await driver.startServer({ baseDir, template: await template(), ...server });
    started.set(server.name, { server, port: s.endpoint.port });
    return s.endpoint;
  };

  const restartServer = async (name: string, { downMs = 0 } = {}): Promise<ServerEndpoint> => {
    const known = started.get(name);
    const pid = registeredPids(baseDir).get(name);
    if (!known || pid === undefined)
      throw new DevclusterError('NOT_RUNNING', `no extra server named ${name}`);
    // Graceful means waiting for it: MySQL 9.7 takes ~11 s to shut down while a binlog dump client (a
    // replica's IO thread, the tailer) is connected, past stopPid's default 10 s, after which the
    // "restart" would be a SIGKILL.
    await stopPid(pid, 30_000);
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    const s = await driver.startServer({
      baseDir,
      template: await template(),
      ...known.server,
      port: known.port,
    });
    return s.endpoint;
  };

  const startPair = async (pair: ExtraPairOptions): Promise<ExtraPair> => {
    const ids = pair.serverIds ?? { primary: nextId, replica: nextId + 1 };
    nextId += 10;
    // allSettled: a failed start must not leave the other one mid-spawn when stop() reads the registry.
    const results = await Promise.allSettled([
      startServer({ name: `${pair.name}-primary`, serverId: ids.primary, options: pair.primaryOptions }),
      startServer({ name: `${pair.name}-replica`, serverId: ids.replica, options: pair.replicaOptions }),
    ]);
    const [primary, replica] = results.map((r) => {
      if (r.status === 'rejected') throw r.reason;
      return r.value;
    });
    await driver.configureReplication(primary, replica);
    const endpoint = (s: 'primary' | 'replica') => (s === 'primary' ? primary : replica);
    return {
      primary,
      replica,
      root: ROOT,
      tailerUser: TAILER,
      query: <T extends RowDataPacket[]>(s: 'primary' | 'replica', sql: string, params: unknown[] = []) =>
        withConnection(endpoint(s), ROOT, async (conn) => (await conn.query<T>(sql, params))[0]),
      connect: (s, who = ROOT) => connect(endpoint(s), who),
      waitForReplicaCatchUp: (timeoutMs = 30_000) =>
        driver.waitForReplicaCatchUp(primary, replica, timeoutMs),
    };
  };

  const startReplicaOf = async (source: ServerEndpoint, server: ExtraServerOptions) => {
    const replica = await startServer(server);
    await repointReplica(driver, replica, source);
    await driver.waitForReplicaCatchUp(source, replica, 30_000);
    return replica;
  };

  return {
    baseDir,
    driver,
    startServer,
    startPair,
    startReplicaOf,
    restartServer,
    pids: () => registeredPids(baseDir),
    stop: async ({ keepFiles = false } = {}) => {
      if (stopped) return;
      stopped = true;
      process.off('exit', onExit);
      await stopRegistered(baseDir);
      if (!keepFiles) await rm(baseDir, { recursive: true, force: true });
    },
  };
}
