// Oracle MySQL servers (9.7 from a Debian sid root), configured as a production replica of that line
// must be for cachetail (DESIGN.md §2): GTIDs on, ROW binlogs with Rows_query events on the primary *and*
// the replica (binlog_rows_query_log_events), log_replica_updates, and MySQL's default multi-threaded
// applier (replica_parallel_workers=4, replica_preserve_commit_order=ON) left as it ships.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { RowDataPacket } from 'mysql2/promise';
import { createAccounts, startDbServer } from './db.js';
import type { DbDriver, DbServer, DialectSql, Runner, StartDbOptions } from './db.js';
import type { ServerLine } from './lines.js';
import { DevclusterError, runCommand } from './proc.js';
import { REPLICATION, ROOT, withConnection, type ServerEndpoint } from './sql.js';

/**
 * The tailer's account on MySQL: REPLICATION SLAVE for COM_BINLOG_DUMP(_GTID), REPLICATION CLIENT for
 * SHOW BINARY LOG STATUS / SHOW REPLICA STATUS. Never REPLICATION_SLAVE_ADMIN: it must not be able to
 * stop or redirect replication.
 */
export const MYSQL_TAILER_GRANTS = 'REPLICATION SLAVE, REPLICATION CLIENT';

const INSTALL_HINT = 'the mysql-9.7 server root (src/devcluster/roots.ts) has no mysqld';
const SIZE_OPTIONS = ['--innodb-buffer-pool-size=64M', '--innodb-redo-log-capacity=16M'];

const SQL: DialectSql = {
  stopReplicaSql: 'STOP REPLICA SQL_THREAD',
  startReplicaSql: 'START REPLICA SQL_THREAD',
  stopReplica: 'STOP REPLICA',
  startReplica: 'START REPLICA',
  replicaStatus: 'SHOW REPLICA STATUS',
  binlogStatus: 'SHOW BINARY LOG STATUS',
  gtidState: 'SELECT @@global.gtid_executed AS gtid',
  fetchedGtidsColumn: 'Retrieved_Gtid_Set',
  appliedGtids: 'SELECT @@global.gtid_executed AS gtid',
};

export function mysqlDriver(line: ServerLine, runner: Runner): DbDriver {
  return {
    line,
    flavor: 'mysql',
    root: runner.root,
    tmpDir: runner.tmpDir,
    sql: SQL,
    tailerGrants: MYSQL_TAILER_GRANTS,
    templateName: 'db-template',
    createTemplateDatadir: (baseDir) => createTemplateDatadir(runner, baseDir),
    startServer: (opts) => startMysql(runner, opts),
    configureReplication,
    waitForReplicaCatchUp,
  };
}

/** `mysqld --initialize-insecure`: root@localhost without a password (loopback TCP counts as localhost). */
async function createTemplateDatadir(runner: Runner, baseDir: string): Promise<string> {
  const datadir = join(baseDir, 'db-template');
  const { cmd, args } = runner.command(
    'mysqld',
    [
      '--no-defaults',
      '--initialize-insecure',
      '--user=root',
      `--datadir=${runner.path(datadir)}`,
      ...SIZE_OPTIONS,
    ],
    INSTALL_HINT,
  );
  await runCommand(cmd, args);
  // Every copy must get its own server_uuid (replication refuses equal ones): mysqld writes a new
  // auto.cnf at first start when there is none.
  await rm(join(datadir, 'auto.cnf'), { force: true });
  return datadir;
}

function startMysql(runner: Runner, opts: StartDbOptions): Promise<DbServer> {
  return startDbServer(runner, opts, {
    binary: 'mysqld',
    installHint: INSTALL_HINT,
    readyTimeoutMs: 90_000,
    flags: [
      // MySQL's X protocol would take a second port (33060) shared by every server on the machine.
      '--mysqlx=OFF',
      '--secure-file-priv=',
      '--log-bin=mysql-bin',
      '--gtid-mode=ON',
      '--enforce-gtid-consistency=ON',
      '--binlog-rows-query-log-events=ON',
      '--log-replica-updates=ON',
      '--relay-log=relay-bin',
      '--performance-schema=OFF',
      '--innodb-flush-log-at-trx-commit=2',
      '--sync-binlog=0',
      ...SIZE_OPTIONS,
    ],
  });
}

/**
 * GTID auto-positioning; the accounts are created on the primary and reach the replica through
 * replication. caching_sha2_password over a plain connection needs the primary's RSA key
 * (GET_SOURCE_PUBLIC_KEY), as it would for any MySQL 8+ replica without TLS.
 */
async function configureReplication(primary: ServerEndpoint, replica: ServerEndpoint): Promise<void> {
  await withConnection(replica, ROOT, async (conn) => {
    await conn.query(
      `CHANGE REPLICATION SOURCE TO SOURCE_HOST = ?, SOURCE_PORT = ?, SOURCE_USER = ?, SOURCE_PASSWORD = ?,
         SOURCE_AUTO_POSITION = 1, SOURCE_CONNECT_RETRY = 1, GET_SOURCE_PUBLIC_KEY = 1`,
      [primary.host, primary.port, REPLICATION.user, REPLICATION.password],
    );
  });
  await createAccounts(primary, MYSQL_TAILER_GRANTS);
  await withConnection(replica, ROOT, (conn) => conn.query('START REPLICA'));
  await waitForReplicaCatchUp(primary, replica, 30_000);
}

/** WAIT_FOR_EXECUTED_GTID_SET blocks server-side until the replica executed the primary's set. */
async function waitForReplicaCatchUp(
  primary: ServerEndpoint,
  replica: ServerEndpoint,
  timeoutMs: number,
): Promise<void> {
  const set = await withConnection(primary, ROOT, async (conn) => {
    const [rows] = await conn.query<RowDataPacket[]>(SQL.gtidState);
    return String(rows[0]?.gtid ?? '');
  });
  if (set.trim() === '') return;
  await withConnection(replica, ROOT, async (conn) => {
    const [rows] = await conn.query<RowDataPacket[]>('SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?) AS r', [
      set,
      timeoutMs / 1000,
    ]);
    if (Number(rows[0]?.r) === 0) return;
    const [status] = await conn.query<RowDataPacket[]>(SQL.replicaStatus);
    const s = status[0] ?? {};
    throw new DevclusterError(
      'TIMEOUT',
      `replica did not reach primary GTID set ${set} within ${timeoutMs} ms ` +
        `(Retrieved_Gtid_Set=${String(s.Retrieved_Gtid_Set)}, Executed_Gtid_Set=${String(s.Executed_Gtid_Set)}, ` +
        `IO=${String(s.Replica_IO_Running)} SQL=${String(s.Replica_SQL_Running)}, ` +
        `Last_IO_Error=${String(s.Last_IO_Error)}, Last_SQL_Error=${String(s.Last_SQL_Error)})`,
    );
  });
}
