// MariaDB servers (the host's 10.11 or a root's 11.8), configured the way cachetail needs a real
// deployment to be: ROW binlogs with Annotate_rows events on both servers, and a replica that re-logs what
// it applies (log_slave_updates + replicate_annotate_row_events), because the tailer reads the replica's
// own binlog (DESIGN.md §2).
import { join } from 'node:path';
import type { RowDataPacket } from 'mysql2/promise';
import { createAccounts, startDbServer } from './db.js';
import type { DbDriver, DbServer, DialectSql, Runner, StartDbOptions } from './db.js';
import type { ServerLine } from './lines.js';
import { DevclusterError, runCommand } from './proc.js';
import { REPLICATION, ROOT, withConnection, type ServerEndpoint } from './sql.js';

/**
 * The tailer's account: enough for COM_BINLOG_DUMP (REPLICATION SLAVE), SHOW MASTER STATUS / SHOW BINLOG
 * EVENTS (BINLOG MONITOR; `REPLICATION CLIENT` is its older alias in 10.5+) and SHOW SLAVE STATUS
 * (SLAVE MONITOR, which 10.5+ split out of REPLICATION CLIENT). Reading @@global needs no privilege.
 * Deliberately not REPLICATION SLAVE ADMIN: the tailer must never be able to stop or redirect replication.
 */
export const TAILER_GRANTS = 'REPLICATION SLAVE, BINLOG MONITOR, SLAVE MONITOR';

const INSTALL_HINT = 'apt-get install mariadb-server';

// Small enough that a pair starts in a second or two and fits next to everything else on a laptop.
const SIZE_OPTIONS = ['--innodb-buffer-pool-size=64M', '--innodb-log-file-size=16M'];

const SQL: DialectSql = {
  stopReplicaSql: 'STOP SLAVE SQL_THREAD',
  startReplicaSql: 'START SLAVE SQL_THREAD',
  stopReplica: 'STOP SLAVE',
  startReplica: 'START SLAVE',
  replicaStatus: 'SHOW SLAVE STATUS',
  binlogStatus: 'SHOW MASTER STATUS',
  gtidState: 'SELECT @@global.gtid_binlog_pos AS gtid',
  fetchedGtidsColumn: 'Gtid_IO_Pos',
  appliedGtids: 'SELECT @@global.gtid_slave_pos AS gtid',
};

export function mariadbDriver(line: ServerLine, runner: Runner): DbDriver {
  return {
    line,
    flavor: 'mariadb',
    root: runner.root,
    tmpDir: runner.tmpDir,
    sql: SQL,
    tailerGrants: TAILER_GRANTS,
    templateName: 'db-template',
    createTemplateDatadir: (baseDir) => createTemplateDatadir(runner, baseDir),
    startServer: (opts) => startMariadb(runner, opts),
    configureReplication,
    waitForReplicaCatchUp,
  };
}

/**
 * One empty datadir per run; both servers start from copies of it. Copying is cheaper than a second
 * bootstrap and keeps the two system schemas identical.
 */
async function createTemplateDatadir(runner: Runner, baseDir: string): Promise<string> {
  const datadir = join(baseDir, 'db-template');
  const { cmd, args } = runner.command(
    'mariadb-install-db',
    [
      '--no-defaults',
      `--datadir=${runner.path(datadir)}`,
      '--user=root',
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      '--skip-name-resolve',
      // In a root, resolveip cannot look up the host name (no resolver config there); nothing needs it.
      ...(runner.root === null ? [] : ['--force']),
      ...SIZE_OPTIONS,
    ],
    INSTALL_HINT,
  );
  await runCommand(cmd, args);
  return datadir;
}

function startMariadb(runner: Runner, opts: StartDbOptions): Promise<DbServer> {
  return startDbServer(runner, opts, {
    binary: 'mariadbd',
    installHint: INSTALL_HINT,
    readyTimeoutMs: 60_000,
    flags: [
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
    ],
  });
}

/**
 * Points the replica at the primary by GTID, then creates the accounts on the primary so that they reach
 * the replica through replication like any other write.
 */
async function configureReplication(primary: ServerEndpoint, replica: ServerEndpoint): Promise<void> {
  await withConnection(replica, ROOT, async (conn) => {
    await conn.query(
      `CHANGE MASTER TO MASTER_HOST = ?, MASTER_PORT = ?, MASTER_USER = ?, MASTER_PASSWORD = ?,
         MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1`,
      [primary.host, primary.port, REPLICATION.user, REPLICATION.password],
    );
  });
  await createAccounts(primary, TAILER_GRANTS);
  await withConnection(replica, ROOT, (conn) => conn.query('START SLAVE'));
  await waitForReplicaCatchUp(primary, replica, 30_000);
}

/**
 * Waits until the replica has applied everything the primary had binlogged when this was called.
 * MASTER_GTID_WAIT blocks server-side, so there is no polling and no sleep.
 */
async function waitForReplicaCatchUp(
  primary: ServerEndpoint,
  replica: ServerEndpoint,
  timeoutMs: number,
): Promise<void> {
  const pos = await withConnection(primary, ROOT, async (conn) => {
    const [rows] = await conn.query<RowDataPacket[]>(SQL.gtidState);
    return String(rows[0]?.gtid ?? '');
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
