// One interface over the database server lines (lines.ts): bootstrap a datadir, start a server, point
// a replica at its primary by GTID, wait for it to catch up, and the few statements whose spelling
// differs between MariaDB and MySQL. The cluster, the extra servers and the tests use only this.
import { existsSync } from 'node:fs';
import { cp, mkdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { tmpdir } from 'node:os';
import { connect, REPLICATION, ROOT, TAILER, withConnection, type ServerEndpoint } from './sql.js';
import type { ServerFlavor, ServerLine } from './lines.js';
import {
  DevclusterError,
  freePort,
  requireBinary,
  spawnService,
  waitUntilReady,
  withRetries,
} from './proc.js';
import type { Spawned } from './proc.js';

export interface DbServer {
  endpoint: ServerEndpoint;
  proc: Spawned;
}

export interface StartDbOptions {
  baseDir: string;
  /** Registry and directory name, unique within `baseDir` (the shared cluster uses primary/replica). */
  name: string;
  serverId: number;
  template: string;
  /**
   * Server options added after the line's defaults; the server keeps the last value of a repeated
   * option, so e.g. `--log-slave-updates=OFF` or `--binlog-format=STATEMENT` overrides the default.
   */
  options?: readonly string[];
  /** Restart on this port (clients keep their address); default: a free one. */
  port?: number;
}

/** Statements whose spelling differs by flavor (MySQL 8.4 removed the SLAVE/MASTER forms). */
export interface DialectSql {
  stopReplicaSql: string;
  startReplicaSql: string;
  stopReplica: string;
  startReplica: string;
  /** One row per replication channel. */
  replicaStatus: string;
  /** File/Position of the server's own binlog. */
  binlogStatus: string;
  /** One row, column `gtid`: the GTID state of everything this server has binlogged. */
  gtidState: string;
  /**
   * The column of `replicaStatus` with the GTIDs the replica's IO thread has fetched into its relay log
   * (MariaDB Gtid_IO_Pos, a position; MySQL Retrieved_Gtid_Set, a set).
   */
  fetchedGtidsColumn: string;
  /**
   * One row, column `gtid`: the GTIDs the replica's applier has committed (MariaDB @@gtid_slave_pos;
   * MySQL @@gtid_executed, which on a replica holds what it applied).
   */
  appliedGtids: string;
}

export interface DbDriver {
  readonly line: ServerLine;
  readonly flavor: ServerFlavor;
  /** The chroot the servers run in; null for the host's own binaries. */
  readonly root: string | null;
  /** Where cluster base dirs go: a chrooted server must see them, so they live in the root's /tmp. */
  readonly tmpDir: string;
  readonly sql: DialectSql;
  /** Grants of the tailer's account: replication + reading binlog/replica status, nothing more. */
  readonly tailerGrants: string;
  /** Name of the template datadir under a base dir (servers start from copies of it). */
  readonly templateName: string;
  createTemplateDatadir(baseDir: string): Promise<string>;
  startServer(opts: StartDbOptions): Promise<DbServer>;
  /** Points `replica` at `primary` by GTID and creates the accounts (on the primary, replicated). */
  configureReplication(primary: ServerEndpoint, replica: ServerEndpoint): Promise<void>;
  /** Waits until the replica applied everything the primary had binlogged when called. */
  waitForReplicaCatchUp(primary: ServerEndpoint, replica: ServerEndpoint, timeoutMs: number): Promise<void>;
}

/** How a line's binaries run: directly on the host, or through chroot(8) into the line's root. */
export class Runner {
  constructor(readonly root: string | null) {}

  /** The path a (possibly chrooted) server sees for a host path; it must lie inside the root. */
  path(hostPath: string): string {
    if (this.root === null) return hostPath;
    const rel = relative(this.root, hostPath);
    if (rel.startsWith('..') || rel.startsWith(sep)) {
      throw new DevclusterError(
        'START_FAILED',
        `${hostPath} is outside the server root ${this.root}: a chrooted server cannot reach it`,
      );
    }
    return `/${rel}`;
  }

  /** `binary args…` as a host command line (binary is looked up inside the root). */
  command(binary: string, args: readonly string[], hint: string): { cmd: string; args: string[] } {
    if (this.root === null) return { cmd: requireBinary(binary, hint), args: [...args] };
    return { cmd: requireBinary('chroot', 'apt-get install coreutils'), args: [this.root, binary, ...args] };
  }

  get tmpDir(): string {
    return this.root === null ? tmpdir() : join(this.root, 'tmp');
  }
}

/** What differs between the lines' server processes; startDbServer does the rest. */
export interface ServerProcessSpec {
  /** `mariadbd` or `mysqld` (inside the runner's root when it has one). */
  binary: string;
  installHint: string;
  /** The line's own flags, after the common paths, port and server id; `opts.options` come last. */
  flags: readonly string[];
  readyTimeoutMs: number;
}

/**
 * Starts one server in `<baseDir>/<name>` (data copied from the template unless it has data already, so
 * a restart keeps it), on `opts.port` or a free port, and waits until root can log in over TCP.
 */
export async function startDbServer(
  runner: Runner,
  opts: StartDbOptions,
  spec: ServerProcessSpec,
): Promise<DbServer> {
  const dir = join(opts.baseDir, opts.name);
  const datadir = join(dir, 'data');
  await mkdir(join(dir, 'tmp'), { recursive: true });
  if (!existsSync(join(datadir, 'mysql'))) await cp(opts.template, datadir, { recursive: true });
  const socket = join(dir, `${spec.binary}.sock`);
  const logFile = join(dir, `${spec.binary}.log`);
  const p = (hostPath: string) => runner.path(hostPath);

  return withRetries(3, async () => {
    const port = opts.port ?? (await freePort());
    const { cmd, args } = runner.command(
      spec.binary,
      [
        '--no-defaults',
        `--datadir=${p(datadir)}`,
        `--socket=${p(socket)}`,
        `--pid-file=${p(join(dir, `${spec.binary}.pid`))}`,
        `--tmpdir=${p(join(dir, 'tmp'))}`,
        `--log-error=${p(logFile)}`,
        '--user=root',
        '--bind-address=127.0.0.1',
        `--port=${port}`,
        `--server-id=${opts.serverId}`,
        ...spec.flags,
        ...(opts.options ?? []),
      ],
      spec.installHint,
    );
    const proc = await spawnService(cmd, args, { baseDir: opts.baseDir, name: opts.name, logFile });
    const endpoint: ServerEndpoint = { host: '127.0.0.1', port, socket, serverId: opts.serverId };
    await waitUntilReady(
      `${spec.binary} ${opts.name}`,
      proc,
      async () => {
        const conn = await connect(endpoint, ROOT);
        await conn.end();
        return true;
      },
      spec.readyTimeoutMs,
    );
    return { endpoint, proc };
  });
}

/**
 * The replication and tailer accounts, created on the primary so that they reach the replica through
 * replication like any other write.
 */
export async function createAccounts(primary: ServerEndpoint, tailerGrants: string): Promise<void> {
  await withConnection(primary, ROOT, async (conn) => {
    await conn.query(`CREATE USER ?@'127.0.0.1' IDENTIFIED BY ?`, [REPLICATION.user, REPLICATION.password]);
    await conn.query(`GRANT REPLICATION SLAVE ON *.* TO ?@'127.0.0.1'`, [REPLICATION.user]);
    await conn.query(`CREATE USER ?@'127.0.0.1' IDENTIFIED BY ?`, [TAILER.user, TAILER.password]);
    await conn.query(`GRANT ${tailerGrants} ON *.* TO ?@'127.0.0.1'`, [TAILER.user]);
  });
}
