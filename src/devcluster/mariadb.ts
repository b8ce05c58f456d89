// A MariaDB primary + replica pair from the distribution's mariadbd, configured the way cachetail needs a
// real deployment to be: ROW binlogs with Annotate_rows events on both servers, and a replica that re-logs
// what it applies (log_slave_updates + replicate_annotate_row_events), because the tailer reads the
// replica's own binlog (DESIGN.md §2).
import { existsSync } from 'node:fs';
import { cp, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import {
  DevclusterError,
  freePort,
  requireBinary,
  runCommand,
  spawnService,
  waitUntilReady,
  withRetries,
} from './proc.js';
import type { Spawned } from './proc.js';

export interface ServerEndpoint {
  host: string;
  port: number;
  /** Unix socket path; root can use it too. */
  socket: string;
  serverId: number;
}

export interface Credentials {
  user: string;
  password: string;
}

/** Admin on both servers: empty password over TCP from 127.0.0.1 (created by mariadb-install-db). */
export const ROOT: Credentials = { user: 'root', password: '' };
/** The replica's IO thread logs in to the primary with this account. */
export const REPLICATION: Credentials = { user: 'repl', password: 'repl' };
/**
 * The tailer's account: enough for COM_BINLOG_DUMP (REPLICATION SLAVE), SHOW MASTER STATUS / SHOW BINLOG
 * EVENTS (BINLOG MONITOR; `REPLICATION CLIENT` is its older alias in 10.5+) and SHOW SLAVE STATUS
 * (SLAVE MONITOR, which 10.5+ split out of REPLICATION CLIENT). Reading @@global needs no privilege.
 * Deliberately not REPLICATION SLAVE ADMIN: the tailer must never be able to stop or redirect replication.
 */
export const TAILER: Credentials = { user: 'cachetail', password: 'cachetail' };
export const TAILER_GRANTS = 'REPLICATION SLAVE, BINLOG MONITOR, SLAVE MONITOR';

const INSTALL_HINT = 'apt-get install mariadb-server';

export interface MariadbServer {
  endpoint: ServerEndpoint;
  proc: Spawned;
}

/**
 * One empty datadir per run; both servers start from copies of it. Copying is cheaper than a second
 * bootstrap and keeps the two system schemas identical.
 */
export async function createTemplateDatadir(baseDir: string): Promise<string> {
  const installDb = requireBinary('mariadb-install-db', INSTALL_HINT);
  requireBinary('mariadbd', INSTALL_HINT);
  const datadir = join(baseDir, 'mariadb-template');
  await runCommand(installDb, [
    '--no-defaults',
    `--datadir=${datadir}`,
    '--user=root',
    '--auth-root-authentication-method=normal',
    '--skip-test-db',
    '--skip-name-resolve',
    ...SIZE_OPTIONS,
  ]);
  return datadir;
}

// Small enough that a pair starts in a second or two and fits next to everything else on a laptop.
const SIZE_OPTIONS = ['--innodb-buffer-pool-size=64M', '--innodb-log-file-size=16M'];

export async function startMariadb(opts: {
  baseDir: string;
  /** Registry and directory name, unique within `baseDir` (the shared cluster uses primary/replica). */
  name: string;
  serverId: number;
  template: string;
  /**
   * mariadbd options added after the defaults below; mariadbd keeps the last value of a repeated option,
   * so e.g. `--log-slave-updates=OFF` or `--binlog-format=STATEMENT` overrides the default.
   */
  options?: readonly string[];
  /** Restart on this port (clients keep their address); default: a free one. */
  port?: number;
}): Promise<MariadbServer> {
  const mariadbd = requireBinary('mariadbd', INSTALL_HINT);
  const dir = join(opts.baseDir, opts.name);
  const datadir = join(dir, 'data');
  await mkdir(join(dir, 'tmp'), { recursive: true });
  // A restart keeps its data: only a new server gets a copy of the template.
  if (!existsSync(join(datadir, 'mysql'))) await cp(opts.template, datadir, { recursive: true });
  const socket = join(dir, 'mariadbd.sock');

  return withRetries(3, async () => {
    const port = opts.port ?? (await freePort());
    const proc = await spawnService(
      mariadbd,
      [
        '--no-defaults',
        `--datadir=${datadir}`,
        `--socket=${socket}`,
        `--pid-file=${join(dir, 'mariadbd.pid')}`,
        `--tmpdir=${join(dir, 'tmp')}`,
        `--log-error=${join(dir, 'mariadbd.log')}`,
        '--user=root',
        '--bind-address=127.0.0.1',
        `--port=${port}`,
        `--server-id=${opts.serverId}`,
        '--log-bin=mysql-bin',
        '--binlog-format=ROW',
        '--binlog-annotate-row-events=ON',
        '--log-slave-updates=ON',
        '--replicate-annotate-row-events=ON',
        '--relay-log=relay-bin',
        '--gtid-strict-mode=ON',
        '--skip-name-resolve',
        '--performance-schema=OFF',
        // A dev box, not production: trade durability for speed.
        '--innodb-flush-log-at-trx-commit=2',
        '--sync-binlog=0',
        ...SIZE_OPTIONS,
        ...(opts.options ?? []),
      ],
      { baseDir: opts.baseDir, name: opts.name, logFile: join(dir, 'mariadbd.log') },
    );
    const endpoint: ServerEndpoint = { host: '127.0.0.1', port, socket, serverId: opts.serverId };
    await waitUntilReady(
      `mariadbd ${opts.name}`,
      proc,
      async () => {
        const conn = await connect(endpoint, ROOT);
        await conn.end();
        return true;
      },
      60_000,
    );
    return { endpoint, proc };
  });
}

export async function connect(
  endpoint: ServerEndpoint,
  who: Credentials,
  database?: string,
): Promise<Connection> {
  return mysql.createConnection({
    host: endpoint.host,
    port: endpoint.port,
    user: who.user,
    password: who.password,
    database,
    connectTimeout: 5_000,
    // Tests write several statements at once (e.g. schema setup).
    multipleStatements: true,
  });
}

export async function withConnection<T>(
  endpoint: ServerEndpoint,
  who: Credentials,
  use: (conn: Connection) => Promise<T>,
): Promise<T> {
  const conn = await connect(endpoint, who);
  try {
    return await use(conn);
  } finally {
    await conn.end();
  }
}

/**
 * Points the replica at the primary by GTID, then creates the accounts on the primary so that they reach
 * the replica through replication like any other write.
 */
export async function configureReplication(primary: ServerEndpoint, replica: ServerEndpoint): Promise<void> {
  await withConnection(replica, ROOT, async (conn) => {
    await conn.query(
      `CHANGE MASTER TO MASTER_HOST = ?, MASTER_PORT = ?, MASTER_USER = ?, MASTER_PASSWORD = ?,
         MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1`,
      [primary.host, primary.port, REPLICATION.user, REPLICATION.password],
    );
  });
  await withConnection(primary, ROOT, async (conn) => {
    await conn.query(`CREATE USER ?@'127.0.0.1' IDENTIFIED BY ?`, [REPLICATION.user, REPLICATION.password]);
    await conn.query(`GRANT REPLICATION SLAVE ON *.* TO ?@'127.0.0.1'`, [REPLICATION.user]);
    await conn.query(`CREATE USER ?@'127.0.0.1' IDENTIFIED BY ?`, [TAILER.user, TAILER.password]);
    await conn.query(`GRANT ${TAILER_GRANTS} ON *.* TO ?@'127.0.0.1'`, [TAILER.user]);
  });
  await withConnection(replica, ROOT, (conn) => conn.query('START SLAVE'));
  await waitForReplicaCatchUp(primary, replica, 30_000);
}

/**
 * Waits until the replica has applied everything the primary had binlogged when this was called.
 * MASTER_GTID_WAIT blocks server-side, so there is no polling and no sleep.
 */
export async function waitForReplicaCatchUp(
  primary: ServerEndpoint,
  replica: ServerEndpoint,
  timeoutMs: number,
): Promise<void> {
  const pos = await withConnection(primary, ROOT, async (conn) => {
    const [rows] = await conn.query<RowDataPacket[]>('SELECT @@global.gtid_binlog_pos AS pos');
    return String(rows[0]?.pos ?? '');
  });
  if (pos === '') return;
  await withConnection(replica, ROOT, async (conn) => {
    const [rows] = await conn.query<RowDataPacket[]>('SELECT MASTER_GTID_WAIT(?, ?) AS r', [
      pos,
      timeoutMs / 1000,
    ]);
    if (Number(rows[0]?.r) === 0) return;
    const [status] = await conn.query<RowDataPacket[]>('SHOW SLAVE STATUS');
    const s = status[0] ?? {};
    throw new DevclusterError(
      'TIMEOUT',
      `replica did not reach primary GTID ${pos} within ${timeoutMs} ms (Gtid_IO_Pos=${String(s.Gtid_IO_Pos)}, ` +
        `IO=${String(s.Slave_IO_Running)} SQL=${String(s.Slave_SQL_Running)}, ` +
        `Last_IO_Error=${String(s.Last_IO_Error)}, Last_SQL_Error=${String(s.Last_SQL_Error)})`,
    );
  });
}
