/**
 * A fake server for preflight unit tests: answers exactly the statements the preflight runs, with rows
 * shaped like MariaDB 10.11's / MySQL 8's, and records every statement it saw. A statement the fake
 * does not know (e.g. SHOW MASTER STATUS on MySQL 8.4) fails with a syntax error, as the server would.
 */
import type { PreflightConnection, Row } from '../../../src/replication/preflight-types.js';

export type Answer = Row[] | ServerError;

export class ServerError extends Error {
  readonly fatal = false;
  constructor(
    readonly errno: number,
    message: string,
  ) {
    super(message);
  }
}

export const denied = (privileges: string) =>
  new ServerError(
    1227,
    `Access denied; you need (at least one of) the ${privileges} privilege(s) for this operation`,
  );

export interface FakeServer {
  flavor: 'mariadb' | 'mysql';
  serverVersion: string;
  variables: Record<string, string>;
  /** CURRENT_USER() as the server returns it. */
  user: string;
  grants: string[] | ServerError;
  replicaStatus: Answer;
  binlogStatus: Answer;
  /** SHOW RELAYLOG EVENTS answers by file name. */
  relay: Record<string, Answer>;
}

export interface FakeConnection extends PreflightConnection {
  readonly statements: string[];
}

/** [Event_type, Server_id, Info] → SHOW RELAYLOG EVENTS rows with made-up but increasing positions. */
export function relayRows(file: string, events: [type: string, serverId: number, info: string][]): Row[] {
  let pos = 4;
  return events.map(([type, serverId, info]) => {
    const row = {
      Log_name: file,
      Pos: pos,
      Event_type: type,
      Server_id: serverId,
      End_log_pos: pos + 100,
      Info: info,
    };
    pos += 100;
    return row;
  });
}

/** The relay log of a healthy MariaDB replica (server 2) of primary 1: DDL, then two annotated writes. */
export const HEALTHY_RELAY = relayRows('relay-bin.000002', [
  ['Format_desc', 2, 'Server ver: 10.11.19-MariaDB-log, Binlog ver: 4'],
  ['Rotate', 1, 'mysql-bin.000001;pos=4'],
  ['Format_desc', 1, 'Server ver: 10.11.19-MariaDB-log, Binlog ver: 4'],
  ['Gtid_list', 1, '[]'],
  ['Gtid', 1, 'GTID 0-1-1'],
  ['Query', 1, 'CREATE TABLE d.t (id INT PRIMARY KEY)'],
  ['Gtid', 1, 'BEGIN GTID 0-1-2'],
  ['Annotate_rows', 1, 'INSERT INTO d.t VALUES (1) /* MEMCACHE_DIRTY t:1 */'],
  ['Table_map', 1, 'table_id: 18 (d.t)'],
  ['Write_rows_v1', 1, 'table_id: 18 flags: STMT_END_F'],
  ['Xid', 1, 'COMMIT /* xid=5 */'],
  ['Gtid', 1, 'BEGIN GTID 0-1-3'],
  ['Annotate_rows', 1, 'UPDATE d.t SET id = 2 /* MEMCACHE_DIRTY t:2 */'],
  ['Table_map', 1, 'table_id: 18 (d.t)'],
  ['Update_rows_v1', 1, 'table_id: 18 flags: STMT_END_F'],
  ['Xid', 1, 'COMMIT /* xid=6 */'],
]);

/** A MariaDB 10.11 replica set up like the devcluster's, seen by the cachetail account. */
export function mariadbReplica(overrides: Partial<FakeServer> = {}): FakeServer {
  return {
    flavor: 'mariadb',
    serverVersion: '10.11.19-MariaDB-0+deb12u1-log',
    variables: {
      binlog_annotate_row_events: 'ON',
      binlog_checksum: 'CRC32',
      binlog_format: 'ROW',
      gtid_binlog_pos: '0-1-3',
      gtid_current_pos: '0-1-3',
      gtid_slave_pos: '0-1-3',
      gtid_strict_mode: 'ON',
      hostname: 'db2',
      log_bin: 'ON',
      log_slave_updates: 'ON',
      port: '3307',
      replicate_annotate_row_events: 'ON',
      server_id: '2',
    },
    user: 'cachetail@127.0.0.1',
    grants: [
      "GRANT REPLICATION SLAVE, BINLOG MONITOR, SLAVE MONITOR ON *.* TO `cachetail`@`127.0.0.1` IDENTIFIED BY PASSWORD '*3046'",
    ],
    replicaStatus: [
      {
        Connection_name: '',
        Master_Host: '10.0.0.1',
        Master_Port: 3306,
        Relay_Log_File: 'relay-bin.000002',
        Slave_IO_Running: 'Yes',
        Slave_SQL_Running: 'Yes',
        Master_Server_Id: 1,
      },
    ],
    binlogStatus: [{ File: 'mysql-bin.000001', Position: 1643, Binlog_Do_DB: '', Binlog_Ignore_DB: '' }],
    relay: { 'relay-bin.000002': HEALTHY_RELAY },
    ...overrides,
  };
}

/** A MySQL 8.0.36 replica with binlog_rows_query_log_events ON, seen by an account with the usual grants. */
export function mysqlReplica(overrides: Partial<FakeServer> = {}): FakeServer {
  return {
    flavor: 'mysql',
    serverVersion: '8.0.36',
    variables: {
      binlog_checksum: 'CRC32',
      binlog_format: 'ROW',
      binlog_rows_query_log_events: 'ON',
      enforce_gtid_consistency: 'ON',
      gtid_executed: '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-23',
      gtid_mode: 'ON',
      hostname: 'db2',
      log_bin: 'ON',
      log_replica_updates: 'ON',
      log_slave_updates: 'ON',
      port: '3306',
      server_id: '2',
      server_uuid: '4a11fa47-71ca-11e1-9e33-c80aa9429562',
    },
    user: 'cachetail@%',
    grants: ['GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `cachetail`@`%`'],
    replicaStatus: [
      {
        Channel_Name: '',
        Source_Host: '10.0.0.1',
        Source_Port: 3306,
        Relay_Log_File: 'db2-relay-bin.000003',
        Replica_IO_Running: 'Yes',
        Source_Server_Id: 1,
      },
    ],
    binlogStatus: [{ File: 'binlog.000007', Position: 157 }],
    relay: {
      'db2-relay-bin.000003': relayRows('db2-relay-bin.000003', [
        ['Format_desc', 2, 'Server ver: 8.0.36, Binlog ver: 4'],
        ['Previous_gtids', 2, ''],
        ['Rotate', 1, 'binlog.000007;pos=4'],
        ['Format_desc', 1, 'Server ver: 8.0.36, Binlog ver: 4'],
        ['Gtid', 1, "SET @@SESSION.GTID_NEXT= '3e11fa47-71ca-11e1-9e33-c80aa9429562:23'"],
        ['Query', 1, 'BEGIN'],
        ['Rows_query', 1, '# INSERT INTO d.t VALUES (1) /* MEMCACHE_DIRTY t:1 */'],
        ['Table_map', 1, 'table_id: 90 (d.t)'],
        ['Write_rows', 1, 'table_id: 90 flags: STMT_END_F'],
        ['Xid', 1, 'COMMIT /* xid=12 */'],
      ]),
    },
    ...overrides,
  };
}

function answer(a: Answer): Row[] {
  if (a instanceof ServerError) throw a;
  return a;
}

const syntaxError = (sql: string) =>
  new ServerError(1064, `You have an error in your SQL syntax near '${sql}'`);

export function fakeConnection(server: FakeServer): FakeConnection {
  const statements: string[] = [];
  const mysql = server.flavor === 'mysql';
  const [major, minor, patch] = server.serverVersion.split(/[.-]/).map(Number);
  const version = major * 10000 + minor * 100 + patch;
  return {
    flavor: server.flavor,
    serverVersion: server.serverVersion,
    statements,
    query: (sql: string): Promise<Row[]> => {
      statements.push(sql);
      return new Promise((resolve) => resolve(respond(sql)));
    },
  };

  function respond(sql: string): Row[] {
    const vars = /^SHOW GLOBAL VARIABLES WHERE Variable_name IN \((.*)\)$/.exec(sql);
    if (vars) {
      const names = vars[1].split(', ').map((n) => n.slice(1, -1));
      return names
        .filter((n) => server.variables[n] !== undefined)
        .sort()
        .map((n) => ({ Variable_name: n, Value: server.variables[n] }));
    }
    if (sql === 'SELECT CURRENT_USER() AS user') return [{ user: server.user }];
    if (sql === 'SHOW GRANTS') {
      const key = `Grants for ${server.user}`;
      return answer(
        server.grants instanceof ServerError ? server.grants : server.grants.map((g) => ({ [key]: g })),
      );
    }
    const statusSql = !mysql
      ? 'SHOW ALL SLAVES STATUS'
      : version >= 80022
        ? 'SHOW REPLICA STATUS'
        : 'SHOW SLAVE STATUS';
    if (sql === statusSql) return answer(server.replicaStatus);
    if (sql === 'SHOW MASTER STATUS' && !(mysql && version >= 80400)) return answer(server.binlogStatus);
    if (sql === 'SHOW BINARY LOG STATUS' && mysql && version >= 80200) return answer(server.binlogStatus);
    const relay = mysql
      ? /^SHOW RELAYLOG EVENTS IN '([^']*)' LIMIT (\d+)(?: FOR CHANNEL '[^']*')?$/.exec(sql)
      : /^SHOW RELAYLOG(?: '(?:[^'\\]|\\.)*')? EVENTS IN '([^']*)' LIMIT (\d+)$/.exec(sql);
    if (relay) {
      const rows = server.relay[relay[1]];
      if (rows === undefined) {
        throw new ServerError(
          1220,
          'Error when executing command SHOW BINLOG EVENTS: Could not find target log',
        );
      }
      return answer(rows).slice(0, Number(relay[2]));
    }
    throw syntaxError(sql);
  }
}
