// What an operator runs in a primary switchover or failover, per flavor: promote a replica (its
// replication stopped for good, writable) and re-point a replica at another server by GTID
// auto-positioning (MariaDB MASTER_USE_GTID, MySQL SOURCE_AUTO_POSITION). The replication account must
// exist on the new source already (created on the first primary, it reached every replica).
import type { RowDataPacket } from 'mysql2/promise';
import type { DbDriver } from './db.js';
import { REPLICATION, ROOT, withConnection, type ServerEndpoint } from './sql.js';

export interface RepointOptions {
  /**
   * MariaDB only: the server was a primary and wrote its own transactions (an old primary rejoining
   * as a replica), which are in its @@gtid_binlog_pos but not in its @@gtid_slave_pos: the slave
   * position is set from the binlog's first, so that it asks for what follows them (and
   * MASTER_GTID_WAIT, which reads the slave position, sees them). MySQL's auto-positioning sends
   * @@gtid_executed either way.
   */
  formerPrimary?: boolean;
}

/** Points `replica` at `source` by GTID auto-positioning and starts replication. */
export async function repointReplica(
  driver: DbDriver,
  replica: ServerEndpoint,
  source: ServerEndpoint,
  opts: RepointOptions = {},
): Promise<void> {
  await withConnection(replica, ROOT, async (conn) => {
    // A fresh server has no replication configured, and MariaDB refuses to stop what it does not have.
    const [channels] = await conn.query<RowDataPacket[]>(driver.sql.replicaStatus);
    if (channels.length > 0) await conn.query(driver.sql.stopReplica);
    if (driver.flavor === 'mariadb') {
      if (opts.formerPrimary) await conn.query('SET GLOBAL gtid_slave_pos = @@global.gtid_binlog_pos');
      await conn.query(
        `CHANGE MASTER TO MASTER_HOST = ?, MASTER_PORT = ?, MASTER_USER = ?, MASTER_PASSWORD = ?,
           MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1`,
        [source.host, source.port, REPLICATION.user, REPLICATION.password],
      );
    } else {
      await conn.query(
        `CHANGE REPLICATION SOURCE TO SOURCE_HOST = ?, SOURCE_PORT = ?, SOURCE_USER = ?,
           SOURCE_PASSWORD = ?, SOURCE_AUTO_POSITION = 1, SOURCE_CONNECT_RETRY = 1, GET_SOURCE_PUBLIC_KEY = 1`,
        [source.host, source.port, REPLICATION.user, REPLICATION.password],
      );
    }
    await conn.query(driver.sql.startReplica);
  });
}

export interface PromoteOptions {
  /**
   * MariaDB only: the new primary's @@gtid_domain_id, so that its writes open a GTID domain of their
   * own (MySQL's new primary writes under its own server_uuid anyway).
   */
  gtidDomainId?: number;
}

/** Makes a replica a primary: replication stopped and forgotten, writable. */
export async function promoteToPrimary(
  driver: DbDriver,
  server: ServerEndpoint,
  opts: PromoteOptions = {},
): Promise<void> {
  await withConnection(server, ROOT, async (conn) => {
    await conn.query(driver.sql.stopReplica);
    await conn.query(driver.flavor === 'mariadb' ? 'RESET SLAVE ALL' : 'RESET REPLICA ALL');
    if (driver.flavor === 'mysql') await conn.query('SET GLOBAL super_read_only = OFF');
    await conn.query('SET GLOBAL read_only = OFF');
    // Sessions take the global value when they connect: the writes that follow use the new domain.
    if (driver.flavor === 'mariadb' && opts.gtidDomainId !== undefined)
      await conn.query('SET GLOBAL gtid_domain_id = ?', [opts.gtidDomainId]);
  });
}
