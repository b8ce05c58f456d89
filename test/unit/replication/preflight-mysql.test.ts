// Preflight on fake MySQL replicas (no MySQL server here): statement names by version, setting names,
// binlog_rows_query_log_events, GTID mode, and the relay-log checks with MySQL's event names.
import { describe, expect, it } from 'vitest';
import { runPreflight } from '../../../src/replication/preflight.js';
import type { PreflightReport } from '../../../src/replication/preflight.js';
import { fakeConnection, mysqlReplica, relayRows } from './preflight-fake.js';
import type { FakeServer } from './preflight-fake.js';

const OPTS = { ourServerId: 4_000_001, server: '10.0.0.2:3306' };

async function run(server: FakeServer): Promise<PreflightReport> {
  return runPreflight(fakeConnection(server), OPTS);
}

async function check(server: FakeServer, id: string) {
  return (await run(server)).checks.find((c) => c.id === id);
}

const vars = (changes: Record<string, string | undefined>) => {
  const v: Record<string, string> = { ...mysqlReplica().variables };
  for (const [k, value] of Object.entries(changes)) {
    if (value === undefined) delete v[k];
    else v[k] = value;
  }
  return v;
};

const RELAY = 'db2-relay-bin.000003';

describe('runPreflight on MySQL', () => {
  it('passes a replica with log_replica_updates and binlog_rows_query_log_events ON', async () => {
    const report = await run(mysqlReplica());
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => [c.id, c.status, c.message])).toEqual([
      ['log_bin', 'ok', 'log_bin is ON: 10.0.0.2:3306 writes a binlog for cachetail to read.'],
      [
        'log_slave_updates',
        'ok',
        'log_replica_updates is ON: transactions 10.0.0.2:3306 replicates are re-logged into its own binlog.',
      ],
      [
        'binlog_format',
        'ok',
        'binlog_format=ROW: each write reaches the binlog as row events, its statement text only in a Rows_query event (binlog_rows_query_log_events) before them.',
      ],
      [
        'rows_query_log_events',
        'ok',
        "binlog_rows_query_log_events is ON (global): 10.0.0.2:3306's applier re-logs each statement's Rows_query event.",
      ],
      [
        'statement_primary_row_replica',
        'ok',
        'binlog_format=ROW and binlog_rows_query_log_events=ON on 10.0.0.2:3306: writes its primary logs as statements are re-logged as row events after a Rows_query event holding their text.',
      ],
      [
        'primary_annotations',
        'ok',
        "the primary's row events carry their statement text: the relay log db2-relay-bin.000003 holds 1 row-logged statement, after a Rows_query event.",
      ],
      [
        'server_id_conflict',
        'ok',
        'cachetail registers as server id 4000001; 10.0.0.2:3306 is server_id 2, its primary 1.',
      ],
      [
        'privileges',
        'ok',
        "'cachetail'@'%' has REPLICATION SLAVE (for the binlog dump) and may run SHOW MASTER STATUS, SHOW REPLICA STATUS and SHOW RELAYLOG EVENTS on 10.0.0.2:3306.",
      ],
      ['binlog_checksum', 'ok', 'binlog_checksum=CRC32: cachetail verifies every event.'],
      [
        'gtid_mode',
        'ok',
        'gtid_mode=ON (gtid_executed=3e11fa47-71ca-11e1-9e33-c80aa9429562:1-23): checkpoints can resume by GTID.',
      ],
    ]);
  });

  it.each([
    ['5.7.44-log', 'SHOW SLAVE STATUS', 'SHOW MASTER STATUS'],
    ['8.0.21', 'SHOW SLAVE STATUS', 'SHOW MASTER STATUS'],
    ['8.0.22', 'SHOW REPLICA STATUS', 'SHOW MASTER STATUS'],
    ['8.4.3', 'SHOW REPLICA STATUS', 'SHOW BINARY LOG STATUS'],
    ['9.1.0', 'SHOW REPLICA STATUS', 'SHOW BINARY LOG STATUS'],
  ])('MySQL %s: %s, %s', async (serverVersion, status, binlog) => {
    const conn = fakeConnection(mysqlReplica({ serverVersion }));
    const report = await runPreflight(conn, OPTS);
    expect(conn.statements.slice(3)).toEqual([
      status,
      `SHOW RELAYLOG EVENTS IN '${RELAY}' LIMIT 2000`,
      binlog,
    ]);
    expect(report.ok).toBe(true);
  });

  it('reads a named channel with FOR CHANNEL and the pre-8.0.22 column names', async () => {
    const conn = fakeConnection(
      mysqlReplica({
        serverVersion: '8.0.21',
        replicaStatus: [
          {
            Channel_Name: 'eu',
            Master_Host: 'p',
            Master_Port: 3306,
            Relay_Log_File: RELAY,
            Master_Server_Id: 4_000_001,
          },
        ],
      }),
    );
    const report = await runPreflight(conn, OPTS);
    expect(conn.statements).toContain(`SHOW RELAYLOG EVENTS IN '${RELAY}' LIMIT 2000 FOR CHANNEL 'eu'`);
    expect(report.checks.find((c) => c.id === 'server_id_conflict')?.message).toBe(
      "cachetail's server id 4000001 (source.serverId) is also the server_id of 10.0.0.2:3306's primary p:3306: server ids must be unique in a replication topology: servers skip events carrying their own id and a second dump with a used id evicts the first.",
    );
  });
});

describe('MySQL settings', () => {
  it('fails log_slave_updates under the name the server uses', async () => {
    expect(
      await check(
        mysqlReplica({ variables: vars({ log_replica_updates: 'OFF', log_slave_updates: 'OFF' }) }),
        'log_slave_updates',
      ),
    ).toEqual({
      id: 'log_slave_updates',
      status: 'fail',
      message:
        "log_replica_updates is OFF on 10.0.0.2:3306: replicated transactions never reach this replica's binlog, so no key would ever be deleted.",
      fix: "set log_replica_updates=ON in the replica's config and restart it.",
    });
    const old = mysqlReplica({
      serverVersion: '5.7.44-log',
      variables: vars({ log_replica_updates: undefined, log_slave_updates: 'OFF' }),
    });
    expect((await check(old, 'log_slave_updates'))?.fix).toBe(
      "set log_slave_updates=ON in the replica's config and restart it.",
    );
  });

  it('fails binlog_rows_query_log_events OFF (the replica re-logs no Rows_query event)', async () => {
    expect(
      await check(
        mysqlReplica({ variables: vars({ binlog_rows_query_log_events: 'OFF' }) }),
        'rows_query_log_events',
      ),
    ).toEqual({
      id: 'rows_query_log_events',
      status: 'fail',
      message:
        'binlog_rows_query_log_events is OFF on 10.0.0.2:3306: its binlog gets row events without Rows_query events, so the statement text (and its MEMCACHE_DIRTY comment) never reaches it.',
      fix: 'SET PERSIST binlog_rows_query_log_events=ON on 10.0.0.2:3306, then restart its applier (STOP REPLICA SQL_THREAD; START REPLICA SQL_THREAD), which reads the global value when it starts; the primary needs it ON too.',
    });
    const statement = mysqlReplica({
      variables: vars({ binlog_rows_query_log_events: 'OFF', binlog_format: 'STATEMENT' }),
    });
    expect((await check(statement, 'rows_query_log_events'))?.status).toBe('warn');
  });

  it('tells how to enable the binlog on MySQL 8', async () => {
    expect((await check(mysqlReplica({ variables: vars({ log_bin: 'OFF' }) }), 'log_bin'))?.fix).toBe(
      "remove skip-log-bin / disable-log-bin from 10.0.0.2:3306's config (MySQL 8 writes a binlog by default) and restart it.",
    );
  });

  it('prints a GTID set of several sources on one line (MySQL separates them with a newline)', async () => {
    const executed = '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-23,\n385df02a-f282-11f1-855b-02fc00000001:1';
    expect(
      (await check(mysqlReplica({ variables: vars({ gtid_executed: executed }) }), 'gtid_mode'))?.message,
    ).toBe(
      'gtid_mode=ON (gtid_executed=3e11fa47-71ca-11e1-9e33-c80aa9429562:1-23,385df02a-f282-11f1-855b-02fc00000001:1): checkpoints can resume by GTID.',
    );
  });

  it('warns without GTIDs', async () => {
    expect(
      await check(mysqlReplica({ variables: vars({ gtid_mode: 'OFF', gtid_executed: '' }) }), 'gtid_mode'),
    ).toEqual({
      id: 'gtid_mode',
      status: 'warn',
      message:
        "gtid_mode=OFF on 10.0.0.2:3306: transactions carry no GTID, so checkpoints resume by file/position only, which does not survive a failover or a re-cloned replica, and the edge pins writers for the whole recent-write window (position mode needs the write's GTID).",
      fix: 'enable GTIDs on every server: enforce_gtid_consistency=ON, then gtid_mode OFF_PERMISSIVE → ON_PERMISSIVE → ON.',
    });
  });
});

describe('MySQL relay log', () => {
  const relay = (events: [string, number, string][], variables = vars({})) =>
    mysqlReplica({ relay: { [RELAY]: relayRows(RELAY, events) }, variables });
  const statementWrite: [string, number, string][] = [
    ['Format_desc', 2, 'Server ver: 8.0.36, Binlog ver: 4'],
    ['Anonymous_Gtid', 1, "SET @@SESSION.GTID_NEXT= 'ANONYMOUS'"],
    ['Query', 1, 'BEGIN'],
    ['Query', 1, 'use `d`; DELETE FROM t WHERE id = 1 /* MEMCACHE_DIRTY t:1 */'],
    ['Xid', 1, 'COMMIT /* xid=9 */'],
  ];

  it('fails on statement-logged writes behind a ROW replica without binlog_rows_query_log_events', async () => {
    const server = relay(statementWrite, vars({ binlog_rows_query_log_events: 'OFF' }));
    expect(await check(server, 'statement_primary_row_replica')).toEqual({
      id: 'statement_primary_row_replica',
      status: 'fail',
      message:
        '10.0.0.2:3306 has binlog_format=ROW and its primary logs writes as statements: relay log db2-relay-bin.000003 holds 1 write logged as a statement (first: DELETE from server_id 1 at position 304); the replica re-logs statement-logged writes as row events without the statement text, so their MEMCACHE_DIRTY comments are lost.',
      fix: 'set binlog_format=ROW on the primary (in its config and with SET GLOBAL; open sessions keep their format until they reconnect), or binlog_format=MIXED on the replica, or binlog_rows_query_log_events=ON on the replica, or use outbox mode. This check reads the current relay log: after the primary switched, it passes once the replica has rotated it (FLUSH LOCAL RELAY LOGS on the replica: without LOCAL the statement is also written to its binlog, as a transaction of its own).',
    });
  });

  it('passes statement-logged writes behind a ROW replica that writes Rows_query events (they keep their text)', async () => {
    expect(await check(relay(statementWrite), 'statement_primary_row_replica')).toEqual({
      id: 'statement_primary_row_replica',
      status: 'ok',
      message:
        'binlog_format=ROW and binlog_rows_query_log_events=ON on 10.0.0.2:3306: writes its primary logs as statements are re-logged as row events after a Rows_query event holding their text.',
    });
  });

  it('fails when the primary writes no Rows_query events', async () => {
    const server = relay([
      ['Gtid', 1, "SET @@SESSION.GTID_NEXT= 'x:1'"],
      ['Query', 1, 'BEGIN'],
      ['Table_map', 1, 'table_id: 90 (d.t)'],
      ['Write_rows', 1, 'table_id: 90 flags: STMT_END_F'],
      ['Xid', 1, 'COMMIT /* xid=12 */'],
    ]);
    expect(await check(server, 'primary_annotations')).toEqual({
      id: 'primary_annotations',
      status: 'fail',
      message:
        "the primary of 10.0.0.2:3306 logs row events without their statement text (binlog_rows_query_log_events is OFF there): relay log db2-relay-bin.000003 holds 1 row-logged statement and no Rows_query event (first: table d.t from server_id 1 at position 204), so no MEMCACHE_DIRTY comment can reach 10.0.0.2:3306's binlog.",
      fix: 'SET GLOBAL binlog_rows_query_log_events=ON on the primary and set it in its config.',
    });
  });
});
