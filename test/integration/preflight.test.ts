/**
 * The preflight and `cachetail doctor` on real servers of every line: the shared cluster's replica
 * passes; extra primary → replica pairs and single servers (started here, stopped by PID in afterAll
 * whatever happens) show each refusal the tailer must make, with the setting's name and the fix — a
 * replica that does not re-log (log_slave_updates / log_replica_updates OFF), statement texts switched
 * off on the replica or on the primary (MariaDB Annotate_rows, MySQL Rows_query events), a
 * STATEMENT-format primary behind a ROW-format replica, a server without a binlog, and accounts without
 * REPLICATION SLAVE or without the binlog monitor privilege.
 *
 * Where the flavors differ, the expectation says how and why (server names of a setting, which events
 * carry the statement text, what the server lets a STATEMENT-logged write keep).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { annotate } from '../../src/annotate/index.js';
import { clusterControl, createExtraServers } from '../../src/devcluster/index.js';
import type { Credentials, ExtraPair, ExtraServers, ServerEndpoint } from '../../src/devcluster/index.js';
import { freePort, isAlive } from '../../src/devcluster/proc.js';
import { connect } from '../../src/devcluster/sql.js';
import { waitFor } from '../helpers/wait.js';
import { ReplicationConnection } from '../../src/replication/client.js';
import { assertPreflight, runPreflight } from '../../src/replication/preflight.js';
import type { PreflightOptions, PreflightReport } from '../../src/replication/preflight.js';

const info = inject('cluster');
const cluster = clusterControl(info);
const mysql = info.server.flavor === 'mysql';
const dialect = cluster.driver.sql;
const OUR_SERVER_ID = 7_900;

/**
 * Server options and names that differ by flavor. MySQL 8.0.26+ calls the re-logging setting
 * log_replica_updates; MariaDB writes the statement text as Annotate_rows events
 * (binlog_annotate_row_events on the primary, replicate_annotate_row_events on the replica), MySQL as
 * Rows_query events (binlog_rows_query_log_events, on both).
 */
const FLAVOR = mysql
  ? {
      relogSetting: 'log_replica_updates',
      relogOff: '--log-replica-updates=OFF',
      replicaTextOff: '--binlog-rows-query-log-events=OFF',
      primaryTextOff: '--binlog-rows-query-log-events=OFF',
      primaryTextSetting: 'binlog_rows_query_log_events',
      textEvent: 'Rows_query',
      rowEvents: { insert: 'Write_rows', update: 'Update_rows', delete: 'Delete_rows' },
      binlogMonitor: 'REPLICATION CLIENT',
      checks: [
        'log_bin',
        'log_slave_updates',
        'binlog_format',
        'rows_query_log_events',
        'statement_primary_row_replica',
        'primary_annotations',
        'server_id_conflict',
        'privileges',
        'binlog_checksum',
        'gtid_mode',
      ],
    }
  : {
      relogSetting: 'log_slave_updates',
      relogOff: '--log-slave-updates=OFF',
      replicaTextOff: '--replicate-annotate-row-events=OFF',
      primaryTextOff: '--binlog-annotate-row-events=OFF',
      primaryTextSetting: 'binlog_annotate_row_events',
      textEvent: 'Annotate_rows',
      rowEvents: { insert: 'Write_rows_v1', update: 'Update_rows_v1', delete: 'Delete_rows_v1' },
      binlogMonitor: 'BINLOG MONITOR',
      checks: [
        'log_bin',
        'log_slave_updates',
        'binlog_format',
        'annotate_rows',
        'replicate_annotate_rows',
        'statement_primary_row_replica',
        'primary_annotations',
        'server_id_conflict',
        'privileges',
        'binlog_checksum',
        'gtid_mode',
      ],
    };

let extra: ExtraServers;
/** log_slave_updates / log_replica_updates OFF on the replica. */
let relogOff: ExtraPair;
/** binlog_format=STATEMENT on the primary, ROW (the default) on the replica. */
let stmt: ExtraPair;
/** The replica does not write (MySQL) / fetch and re-log (MariaDB) the statement texts. */
let replicaTextOff: ExtraPair;
/** The primary writes no statement text in front of its row events. */
let primaryTextOff: ExtraPair;
/** Configured like the shared cluster; used for the account checks. */
let plain: ExtraPair;
/** A single server without a binlog (--skip-log-bin). */
let noBinlog: ServerEndpoint;

const address = (e: ServerEndpoint) => `${e.host}:${e.port}`;

function open(endpoint: ServerEndpoint, who: Credentials): Promise<ReplicationConnection> {
  return ReplicationConnection.open({
    host: endpoint.host,
    port: endpoint.port,
    user: who.user,
    password: who.password,
    serverId: OUR_SERVER_ID,
    connectTimeoutMs: 5_000,
    heartbeatMs: 0,
  });
}

async function preflight(
  endpoint: ServerEndpoint,
  who: Credentials,
  opts: Partial<PreflightOptions> = {},
): Promise<PreflightReport> {
  const conn = await open(endpoint, who);
  try {
    return await runPreflight(conn, { ourServerId: OUR_SERVER_ID, server: address(endpoint), ...opts });
  } finally {
    conn.close();
  }
}

const statuses = (report: PreflightReport) => report.checks.map((c) => [c.id, c.status]);
const failed = (report: PreflightReport) => report.checks.filter((c) => c.status === 'fail');
const warned = (report: PreflightReport) => report.checks.filter((c) => c.status === 'warn').map((c) => c.id);

/** The replica's own binlog: row events and statement-text events, with the text (Info) of the latter. */
async function replicaBinlog(pair: ExtraPair): Promise<[string, string][]> {
  const [status] = await pair.query('replica', dialect.binlogStatus);
  const events = await pair.query('replica', `SHOW BINLOG EVENTS IN '${String(status?.File)}'`);
  const rows = new Set(Object.values(FLAVOR.rowEvents));
  return events
    .filter((e) => rows.has(String(e.Event_type)) || String(e.Event_type) === FLAVOR.textEvent)
    .map((e) => [String(e.Event_type), String(e.Event_type) === FLAVOR.textEvent ? String(e.Info) : '']);
}

/** How SHOW BINLOG EVENTS prints a statement-text event: MySQL prefixes the Rows_query text with '# '. */
const textInfo = (statement: string) => (mysql ? `# ${statement}` : statement);

beforeAll(async () => {
  // Copying the shared cluster's bootstrapped datadir saves a bootstrap per server.
  extra = await createExtraServers({ template: info.server.template, line: info.server.line });
  // allSettled: afterAll must not stop the group while a sibling is still being spawned.
  const started = await Promise.allSettled([
    extra.startPair({ name: 'relog-off', replicaOptions: [FLAVOR.relogOff] }),
    extra.startPair({ name: 'stmt', primaryOptions: ['--binlog-format=STATEMENT'] }),
    extra.startPair({ name: 'replica-text-off', replicaOptions: [FLAVOR.replicaTextOff] }),
    extra.startPair({ name: 'primary-text-off', primaryOptions: [FLAVOR.primaryTextOff] }),
    extra.startPair({ name: 'plain' }),
    // Without GTIDs too: a MariaDB server without a binlog has none, a MySQL one is started with
    // gtid_mode=OFF, so that the gtid_mode warning is seen live on both.
    extra.startServer({
      name: 'no-binlog',
      serverId: 300,
      options: ['--skip-log-bin', ...(mysql ? ['--gtid-mode=OFF', '--enforce-gtid-consistency=OFF'] : [])],
    }),
  ]);
  const values = started.map((p) => {
    if (p.status === 'rejected') throw p.reason;
    return p.value;
  });
  [relogOff, stmt, replicaTextOff, primaryTextOff, plain] = values.slice(0, 5) as ExtraPair[];
  noBinlog = values[5] as ServerEndpoint;
});

afterAll(async () => {
  await extra?.stop();
});

describe('the shared cluster replica', () => {
  it('passes every check', async () => {
    // The preflight reads the current relay log, and other suites write statement-format DML on the
    // shared primary on purpose (the binlog differential workload), which a MariaDB replica correctly
    // reports as annotations lost. A fresh relay log makes this test independent of the file order;
    // it changes nothing the replica applies or logs (LOCAL: a FLUSH is otherwise written to the binlog,
    // a transaction of the replica's own — on MySQL a GTID of its own UUID).
    await cluster.query('replica', 'FLUSH LOCAL RELAY LOGS');
    // An annotated write, so that the relay log shows how the primary logs rows.
    await cluster.query(
      'primary',
      `CREATE DATABASE IF NOT EXISTS preflight_it;
       CREATE TABLE IF NOT EXISTS preflight_it.t (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;`,
    );
    await cluster.query('primary', annotate('REPLACE INTO preflight_it.t VALUES (1, 1)', ['preflight:1']));
    await cluster.waitForReplicaCatchUp();
    // The preflight reads the file SHOW REPLICA/SLAVE STATUS names as Relay_Log_File. MySQL's
    // multi-threaded applier updates it at its checkpoints (replica_checkpoint_period), so right after
    // the catch-up it may still name the file before the FLUSH: wait until it names the write's file.
    await waitFor(
      'Relay_Log_File to hold the annotated write',
      async () => {
        const [status] = await cluster.query('replica', dialect.replicaStatus);
        const file = String(status?.Relay_Log_File);
        const events = await cluster.query('replica', `SHOW RELAYLOG EVENTS IN '${file}'`);
        return events.some((e) => String(e.Info).includes('REPLACE INTO preflight_it.t')) ? true : undefined;
      },
      30_000,
      100,
    );

    const report = await preflight(info.replica, info.tailerUser);
    expect(statuses(report)).toEqual(FLAVOR.checks.map((id) => [id, 'ok']));
    expect(report).toMatchObject({
      ok: true,
      flavor: info.server.flavor,
      serverVersion: info.server.version,
      serverId: info.replica.serverId,
    });
    expect(assertPreflight(report)).toBe(report);
  });
});

describe(`a replica with ${FLAVOR.relogSetting}=OFF`, () => {
  it(`fails log_slave_updates with the setting (${FLAVOR.relogSetting}) and the fix`, async () => {
    await relogOff.query('primary', 'CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY)');
    await relogOff.query('primary', annotate('INSERT INTO d.t VALUES (1)', ['t:1']));
    await relogOff.waitForReplicaCatchUp();

    const report = await preflight(relogOff.replica, relogOff.tailerUser);
    const at = address(relogOff.replica);
    const message = `${FLAVOR.relogSetting} is OFF on ${at}: replicated transactions never reach this replica's binlog, so no key would ever be deleted.`;
    const fix = `set ${FLAVOR.relogSetting}=ON in the replica's config and restart it.`;
    expect(failed(report)).toEqual([{ id: 'log_slave_updates', status: 'fail', message, fix }]);
    // Without re-logging a MariaDB replica also stops fetching Annotate_rows (so their absence says
    // nothing) and its binlog holds no GTID; a MySQL replica still relays Rows_query events and keeps
    // gtid_executed from its applier, so nothing else is in doubt there.
    expect(warned(report)).toEqual(mysql ? [] : ['primary_annotations', 'gtid_mode']);
    expect(() => assertPreflight(report)).toThrow(
      expect.objectContaining({
        code: 'PREFLIGHT_FAILED',
        retryable: false,
        message:
          `preflight refused ${at} (${report.serverVersion}): 1 check failed\n` +
          `- [log_slave_updates] ${message} Fix: ${fix}`,
      }),
    );
  });
});

describe('a STATEMENT-format primary behind a ROW-format replica', () => {
  const writes = [
    annotate('INSERT INTO d.t VALUES (1, 1), (2, 2)', ['t:1', 't:2']),
    annotate('UPDATE d.t SET v = 3 WHERE id = 1', ['t:1']),
    annotate('DELETE FROM d.t WHERE id = 2', ['t:2']),
  ];
  let relayFile = '';
  let firstWriteAt = 0;

  beforeAll(async () => {
    // MySQL 9 deprecates binlog_format but still honours --binlog-format=STATEMENT (checked here).
    expect(await stmt.query('primary', 'SELECT @@global.binlog_format AS f')).toEqual([{ f: 'STATEMENT' }]);
    await stmt.query('primary', 'CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY, v INT)');
    const writer = await stmt.connect('primary');
    try {
      // mysql2 sends the comments as they are; the primary logs each write as a Query event.
      for (const w of writes) await writer.query(w);
    } finally {
      await writer.end();
    }
    await stmt.waitForReplicaCatchUp();
    const [status] = await stmt.query('replica', dialect.replicaStatus);
    relayFile = String(status?.Relay_Log_File);
    const events = await stmt.query('replica', `SHOW RELAYLOG EVENTS IN '${relayFile}'`);
    const first = events.find((e) => e.Event_type === 'Query' && String(e.Info).includes('INSERT INTO d.t'));
    firstWriteAt = Number(first?.Pos);
  });

  if (mysql) {
    it("keeps the comments on MySQL: the replica's applier writes each statement as a Rows_query event", async () => {
      // MySQL logs a statement it applies in row format after a Rows_query event holding the statement
      // (binlog_rows_query_log_events=ON on the replica), so the comment survives.
      expect(await replicaBinlog(stmt)).toEqual([
        ['Rows_query', textInfo(writes[0] ?? '')],
        ['Write_rows', ''],
        ['Rows_query', textInfo(writes[1] ?? '')],
        ['Update_rows', ''],
        ['Rows_query', textInfo(writes[2] ?? '')],
        ['Delete_rows', ''],
      ]);
    });

    it('passes statement_primary_row_replica, saying why', async () => {
      const report = await preflight(stmt.replica, stmt.tailerUser);
      expect(report.checks.find((c) => c.id === 'statement_primary_row_replica')).toEqual({
        id: 'statement_primary_row_replica',
        status: 'ok',
        message: `binlog_format=ROW and binlog_rows_query_log_events=ON on ${address(stmt.replica)}: writes its primary logs as statements are re-logged as row events after a Rows_query event holding their text.`,
      });
      expect(failed(report)).toEqual([]);
    });
  } else {
    it('really loses the comments on MariaDB: the replica re-logs the writes as rows without Annotate_rows', async () => {
      expect(await replicaBinlog(stmt)).toEqual([
        ['Write_rows_v1', ''],
        ['Update_rows_v1', ''],
        ['Delete_rows_v1', ''],
      ]);
    });

    it('fails statement_primary_row_replica, from the relay log alone', async () => {
      const report = await preflight(stmt.replica, stmt.tailerUser);
      const at = address(stmt.replica);
      expect(failed(report)).toEqual([
        {
          id: 'statement_primary_row_replica',
          status: 'fail',
          message:
            `${at} has binlog_format=ROW and its primary logs writes as statements: relay log ${relayFile} holds ` +
            `3 writes logged as statements (first: INSERT from server_id ${stmt.primary.serverId} at position ` +
            `${firstWriteAt}); the replica re-logs statement-logged writes as row events without the statement ` +
            'text, so their MEMCACHE_DIRTY comments are lost.',
          fix:
            'set binlog_format=ROW on the primary (in its config and with SET GLOBAL; open sessions keep their ' +
            'format until they reconnect), or binlog_format=MIXED on the replica, or use outbox mode. This check ' +
            'reads the current relay log: after the primary switched, it passes once the replica has rotated it ' +
            '(FLUSH LOCAL RELAY LOGS on the replica: without LOCAL the statement is also written to its binlog, as a transaction of its own).',
        },
      ]);
    });

    it("names the primary's setting when a primary connection is given", async () => {
      const primary = await open(stmt.primary, stmt.tailerUser);
      try {
        const report = await preflight(stmt.replica, stmt.tailerUser, {
          primary,
          primaryServer: address(stmt.primary),
        });
        expect(failed(report).map((c) => c.message)).toEqual([
          `${address(stmt.replica)} has binlog_format=ROW and its primary ${address(stmt.primary)} has ` +
            'binlog_format=STATEMENT: the replica re-logs statement-logged writes as row events without the ' +
            'statement text, so their MEMCACHE_DIRTY comments are lost.',
        ]);
      } finally {
        primary.close();
      }
    });
  }
});

describe('statement texts switched off on the replica', () => {
  const rowWrite = annotate('INSERT INTO d.t VALUES (1, 1)', ['t:1']);
  const statementWrite = annotate('UPDATE d.t SET v = 2 WHERE id = 1', ['t:1']);

  beforeAll(async () => {
    await replicaTextOff.query('primary', 'CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY, v INT)');
    const writer = await replicaTextOff.connect('primary');
    try {
      await writer.query(rowWrite);
      // One writer session logging as statements (allowed to root): on MySQL the replica would keep its
      // text only with binlog_rows_query_log_events ON.
      await writer.query('SET SESSION binlog_format = STATEMENT');
      await writer.query(statementWrite);
    } finally {
      await writer.end();
    }
    await replicaTextOff.waitForReplicaCatchUp();
  });

  it("really loses the comments: the replica's binlog has the row events only", async () => {
    expect(await replicaBinlog(replicaTextOff)).toEqual([
      [FLAVOR.rowEvents.insert, ''],
      [FLAVOR.rowEvents.update, ''],
    ]);
  });

  it('fails, naming the setting and the fix', async () => {
    const report = await preflight(replicaTextOff.replica, replicaTextOff.tailerUser);
    const at = address(replicaTextOff.replica);
    const [status] = await replicaTextOff.query('replica', dialect.replicaStatus);
    const relayFile = String(status?.Relay_Log_File);
    const events = await replicaTextOff.query('replica', `SHOW RELAYLOG EVENTS IN '${relayFile}'`);
    const update = events.find((e) => e.Event_type === 'Query' && String(e.Info).includes('UPDATE d.t'));
    const statementCheck = {
      id: 'statement_primary_row_replica',
      status: 'fail',
      message:
        `${at} has binlog_format=ROW and its primary logs writes as statements: relay log ${relayFile} holds ` +
        `1 write logged as a statement (first: UPDATE from server_id ${replicaTextOff.primary.serverId} at ` +
        `position ${Number(update?.Pos)}); the replica re-logs statement-logged writes as row events without ` +
        'the statement text, so their MEMCACHE_DIRTY comments are lost.',
      fix:
        'set binlog_format=ROW on the primary (in its config and with SET GLOBAL; open sessions keep their ' +
        'format until they reconnect), or binlog_format=MIXED on the replica, ' +
        (mysql ? 'or binlog_rows_query_log_events=ON on the replica, ' : '') +
        'or use outbox mode. This check reads the current relay log: after the primary switched, it passes ' +
        'once the replica has rotated it (FLUSH LOCAL RELAY LOGS on the replica: without LOCAL the statement is also written to its binlog, as a transaction of its own).',
    };
    expect(failed(report)).toEqual(
      mysql
        ? [
            {
              id: 'rows_query_log_events',
              status: 'fail',
              message: `binlog_rows_query_log_events is OFF on ${at}: its binlog gets row events without Rows_query events, so the statement text (and its MEMCACHE_DIRTY comment) never reaches it.`,
              fix:
                `SET PERSIST binlog_rows_query_log_events=ON on ${at}, then restart its applier (STOP REPLICA ` +
                'SQL_THREAD; START REPLICA SQL_THREAD), which reads the global value when it starts; the primary ' +
                'needs it ON too.',
            },
            statementCheck,
          ]
        : [
            {
              id: 'replicate_annotate_rows',
              status: 'fail',
              message:
                `replicate_annotate_row_events is OFF on ${at}: it neither fetches the primary's Annotate_rows ` +
                'events nor re-logs them, so replicated row events reach its binlog without the statement text ' +
                'and no key would be deleted.',
              fix: "set replicate_annotate_row_events=ON in the replica's config and restart it.",
            },
            statementCheck,
          ],
    );
  });
});

describe('statement texts switched off on the primary', () => {
  let relayFile = '';
  let tableMapAt = 0;

  beforeAll(async () => {
    await primaryTextOff.query('primary', 'CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY, v INT)');
    await primaryTextOff.query('primary', annotate('INSERT INTO d.t VALUES (1, 1)', ['t:1']));
    await primaryTextOff.waitForReplicaCatchUp();
    const [status] = await primaryTextOff.query('replica', dialect.replicaStatus);
    relayFile = String(status?.Relay_Log_File);
    const events = await primaryTextOff.query('replica', `SHOW RELAYLOG EVENTS IN '${relayFile}'`);
    tableMapAt = Number(events.find((e) => e.Event_type === 'Table_map')?.Pos);
  });

  it("fails primary_annotations from the relay log, which holds the primary's rows without their text", async () => {
    const report = await preflight(primaryTextOff.replica, primaryTextOff.tailerUser);
    const at = address(primaryTextOff.replica);
    expect(failed(report)).toEqual([
      {
        id: 'primary_annotations',
        status: 'fail',
        message:
          `the primary of ${at} logs row events without their statement text (${FLAVOR.primaryTextSetting} is ` +
          `OFF there): relay log ${relayFile} holds 1 row-logged statement and no ${FLAVOR.textEvent} event ` +
          `(first: table d.t from server_id ${primaryTextOff.primary.serverId} at position ${tableMapAt}), so no ` +
          `MEMCACHE_DIRTY comment can reach ${at}'s binlog.`,
        fix:
          `SET GLOBAL ${FLAVOR.primaryTextSetting}=ON on the primary and set it in its config` +
          `${mysql ? '' : ' (ON is the default)'}.`,
      },
    ]);
  });

  it("names the primary's setting when a primary connection is given", async () => {
    const primary = await open(primaryTextOff.primary, primaryTextOff.tailerUser);
    try {
      const at = address(primaryTextOff.replica);
      const report = await preflight(primaryTextOff.replica, primaryTextOff.tailerUser, {
        primary,
        primaryServer: address(primaryTextOff.primary),
      });
      expect(failed(report).map((c) => [c.id, c.message])).toEqual([
        [
          'primary_annotations',
          `${FLAVOR.primaryTextSetting} is OFF on the primary ${address(primaryTextOff.primary)}: its row events ` +
            `carry no statement text, so no MEMCACHE_DIRTY comment can reach ${at}'s binlog.`,
        ],
      ]);
    } finally {
      primary.close();
    }
  });
});

describe('a server without a binlog', () => {
  it('fails log_bin, with the flavor’s way to enable it; GTIDs missing are a warning only', async () => {
    await withRoot(noBinlog, async (q) => {
      await q(`CREATE USER IF NOT EXISTS 'cachetail'@'127.0.0.1' IDENTIFIED BY 'cachetail'`);
      await q(`GRANT ${cluster.driver.tailerGrants} ON *.* TO 'cachetail'@'127.0.0.1'`);
    });
    const report = await preflight(noBinlog, info.tailerUser);
    const at = address(noBinlog);
    expect(failed(report)).toEqual([
      {
        id: 'log_bin',
        status: 'fail',
        message: `log_bin is OFF on ${at}: it writes no binlog, so cachetail has nothing to read and no key would ever be deleted.`,
        fix: mysql
          ? `remove skip-log-bin / disable-log-bin from ${at}'s config (MySQL 8 writes a binlog by default) and restart it.`
          : `set log_bin=mysql-bin (any base name) in ${at}'s config and restart it.`,
      },
    ]);
    // Not failures: tailing a server that is not a replica can be intended, and without GTIDs the tailer
    // runs by file/position while the edge pins writers by time (position mode needs a write's GTID).
    expect(report.checks.filter((c) => c.status === 'warn')).toEqual([
      {
        id: 'log_slave_updates',
        status: 'warn',
        message: `${at} is not a replica (${mysql ? 'SHOW REPLICA STATUS' : 'SHOW ALL SLAVES STATUS'} is empty): cachetail sees only the writes made directly on it.`,
        fix: `point cachetail at the region's replica, unless tailing ${at} itself is intended.`,
      },
      mysql
        ? {
            id: 'gtid_mode',
            status: 'warn',
            message:
              `gtid_mode=OFF on ${at}: transactions carry no GTID, so checkpoints resume by file/position only, ` +
              'which does not survive a failover or a re-cloned replica, and the edge pins writers for the whole ' +
              "recent-write window (position mode needs the write's GTID).",
            fix: 'enable GTIDs on every server: enforce_gtid_consistency=ON, then gtid_mode OFF_PERMISSIVE → ON_PERMISSIVE → ON.',
          }
        : {
            id: 'gtid_mode',
            status: 'warn',
            message: `${at} has no GTID in its binlog yet (gtid_binlog_pos is empty, gtid_strict_mode=ON): until a transaction arrives, a checkpoint can only resume by file/position.`,
          },
    ]);
  });
});

/** Runs statements as root on a fresh connection. */
async function withRoot(
  endpoint: ServerEndpoint,
  use: (q: (sql: string) => Promise<unknown>) => Promise<void>,
): Promise<void> {
  const conn = await connect(endpoint, info.root);
  try {
    await use((sql) => conn.query(sql));
  } finally {
    await conn.end();
  }
}

describe('accounts without the grants the tailer needs', () => {
  const granted = cluster.driver.tailerGrants.split(', ');
  const noSlave: Credentials = { user: 'noslave', password: 'noslave' };
  const noMonitor: Credentials = { user: 'nomonitor', password: 'nomonitor' };

  beforeAll(async () => {
    const without = (privilege: string) => granted.filter((p) => p !== privilege).join(', ');
    for (const [who, privilege] of [
      [noSlave, 'REPLICATION SLAVE'],
      [noMonitor, FLAVOR.binlogMonitor],
    ] as const) {
      await plain.query('primary', `CREATE USER '${who.user}'@'127.0.0.1' IDENTIFIED BY '${who.password}'`);
      await plain.query('primary', `GRANT ${without(privilege)} ON *.* TO '${who.user}'@'127.0.0.1'`);
    }
    await plain.query('primary', 'CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY)');
    await plain.query('primary', annotate('INSERT INTO d.t VALUES (1)', ['t:1']));
    await plain.waitForReplicaCatchUp();
  });

  it('fails privileges without REPLICATION SLAVE, and the server does refuse to stream to it', async () => {
    const report = await preflight(plain.replica, noSlave);
    expect(failed(report)).toEqual([
      {
        id: 'privileges',
        status: 'fail',
        message:
          `'noslave'@'127.0.0.1' lacks REPLICATION SLAVE on ${address(plain.replica)}: the server refuses the ` +
          'binlog dump, so cachetail cannot read any event' +
          // MySQL's SHOW RELAYLOG EVENTS needs REPLICATION SLAVE itself (MariaDB's: SLAVE MONITOR).
          (mysql
            ? "; SHOW RELAYLOG EVENTS is refused, so the preflight cannot check the primary's binlog format."
            : '.'),
        fix: "GRANT REPLICATION SLAVE ON *.* TO 'noslave'@'127.0.0.1' (on the primary, so that the grant replicates).",
      },
    ]);

    const conn = await open(plain.replica, noSlave);
    try {
      const source = {
        ...plain.replica,
        ...noSlave,
        serverId: OUR_SERVER_ID,
        connectTimeoutMs: 5_000,
        heartbeatMs: 0,
      };
      const handlers = { onEvent: () => undefined, onEnd: () => undefined };
      // Both flavors already refuse the registration that precedes the dump; retrying cannot help.
      await expect(
        conn.startDump(source, { kind: 'file', file: '', position: 4 }, handlers),
      ).rejects.toMatchObject({
        code: 'REPLICATION_ACCESS_DENIED',
        retryable: false,
        message:
          "register as replica: server error 1045: Access denied for user 'noslave'@'127.0.0.1' (using password: YES). " +
          "Fix: GRANT REPLICATION SLAVE ON *.* to the tailer's account (on the primary, so that the grant replicates).",
      });
    } finally {
      conn.close();
    }
  });

  it(`fails privileges without ${FLAVOR.binlogMonitor}: the tailer could not find the binlog's end`, async () => {
    const report = await preflight(plain.replica, noMonitor);
    const at = address(plain.replica);
    const statement = dialect.binlogStatus;
    const binlogEffect = `${statement} is refused, so cachetail cannot read ${at}'s current binlog position, which it needs to start without a checkpoint and to continue after a gap`;
    // MySQL's REPLICATION CLIENT also allows SHOW REPLICA STATUS (MariaDB: SLAVE MONITOR, still granted).
    const replicaEffect = `${dialect.replicaStatus} is refused, so the preflight cannot see ${at}'s replication`;
    expect(failed(report)).toEqual([
      {
        id: 'privileges',
        status: 'fail',
        message: `'nomonitor'@'127.0.0.1' lacks ${FLAVOR.binlogMonitor} (${binlogEffect}${mysql ? `; ${replicaEffect}` : ''}) on ${at}.`,
        fix: `GRANT ${FLAVOR.binlogMonitor} ON *.* TO 'nomonitor'@'127.0.0.1' (on the primary, so that the grant replicates).`,
      },
    ]);
  });

  it('passes the same pair with the tailer account', async () => {
    expect((await preflight(plain.replica, plain.tailerUser)).ok).toBe(true);
  });
});

describe('cachetail doctor', () => {
  interface Run {
    code: number;
    stdout: string;
    stderr: string;
  }

  /** `npx tsx src/cli.ts doctor …` with only the given CACHETAIL_* variables. */
  function doctor(env: Record<string, string>, args: string[] = []): Promise<Run> {
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CACHETAIL_')));
    return new Promise((resolve) => {
      execFile(
        'npx',
        ['tsx', 'src/cli.ts', 'doctor', ...args],
        { cwd: process.cwd(), env: { ...base, ...env }, timeout: 50_000 },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
          // npm itself may warn about the machine's npmrc; that is not doctor's output.
          const own = stderr.split('\n').filter((line) => !line.startsWith('npm warn'));
          resolve({ code, stdout, stderr: own.join('\n') });
        },
      );
    });
  }

  const envFor = (e: ServerEndpoint, who: Credentials) => ({
    CACHETAIL_SOURCE_HOST: e.host,
    CACHETAIL_SOURCE_PORT: String(e.port),
    CACHETAIL_SOURCE_USER: who.user,
    CACHETAIL_SOURCE_PASSWORD: who.password,
    CACHETAIL_SOURCE_SERVER_ID: String(OUR_SERVER_ID),
    // Required by the tailer config; doctor never connects to it.
    CACHETAIL_MEMCACHED_SERVERS: info.memcached.replica,
  });

  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  it('exits 0 on the shared cluster replica and prints one ✓ line per check', async () => {
    const run = await doctor(envFor(info.replica, info.tailerUser));
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      new RegExp(
        `^${escape(address(info.replica))}: ${info.server.flavor} ${escape(info.server.version)}, server_id 2$`,
      ),
    );
    expect(lines.slice(1, -1).map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(
      FLAVOR.checks.map((id) => `✓ ${id}`),
    );
    expect(lines.at(-1)).toBe(`OK: ${FLAVOR.checks.length} ok, 0 warning(s), 0 failed`);
  });

  it(`exits 1 on the replica without ${FLAVOR.relogSetting}, printing the failure and its fix`, async () => {
    const run = await doctor(envFor(relogOff.replica, relogOff.tailerUser));
    expect(run.code).toBe(1);
    const at = address(relogOff.replica);
    const pad = ' '.repeat('statement_primary_row_replica'.length + 3);
    expect(run.stdout).toContain(
      `\n✗ ${'log_slave_updates'.padEnd('statement_primary_row_replica'.length)} ${FLAVOR.relogSetting} is OFF on ${at}: replicated transactions never reach this replica's binlog, so no key would ever be deleted.\n` +
        `${pad}Fix: set ${FLAVOR.relogSetting}=ON in the replica's config and restart it.\n`,
    );
    // See the relog-off test above for which checks warn on each flavor.
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe(
      mysql ? 'FAIL: 9 ok, 0 warning(s), 1 failed' : 'FAIL: 8 ok, 2 warning(s), 1 failed',
    );
  });

  it('exits 1 on a server without a binlog', async () => {
    const run = await doctor(envFor(noBinlog, info.tailerUser), ['--json']);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as PreflightReport;
    expect(failed(report).map((c) => c.id)).toEqual(['log_bin']);
    expect(report).toMatchObject({ ok: false, server: address(noBinlog), serverId: 300 });
  });

  it('prints the report as JSON with --json', async () => {
    const run = await doctor(envFor(replicaTextOff.replica, replicaTextOff.tailerUser), ['--json']);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as PreflightReport;
    expect(failed(report).map((c) => c.id)).toEqual([
      mysql ? 'rows_query_log_events' : 'replicate_annotate_rows',
      'statement_primary_row_replica',
    ]);
    expect(report).toMatchObject({
      ok: false,
      server: address(replicaTextOff.replica),
      serverId: replicaTextOff.replica.serverId,
    });
  });

  it('exits 2 when the replica cannot be reached', async () => {
    const port = await freePort();
    const run = await doctor(envFor({ ...info.replica, port }, info.tailerUser));
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toMatch(
      new RegExp(
        `^cachetail doctor: cannot connect to 127\\.0\\.0\\.1:${port} as cachetail: .*ECONNREFUSED.* \\[REPLICATION_CONNECT\\]\\n$`,
      ),
    );
  });

  it('exits 2 when the login is refused, naming the settings to check', async () => {
    const run = await doctor(envFor(info.replica, { user: info.tailerUser.user, password: 'wrong' }), [
      '--json',
    ]);
    expect(run.code).toBe(2);
    const { error } = JSON.parse(run.stdout) as { error: { code: string; message: string } };
    expect(error).toEqual({
      code: 'REPLICATION_ACCESS_DENIED',
      message: expect.stringMatching(
        new RegExp(
          `^cannot connect to ${escape(address(info.replica))} as cachetail: server error 1045: Access denied for user 'cachetail'@'[^']+' \\(using password: YES\\)\\. Fix: check source\\.user and source\\.password`,
        ),
      ),
    });
  });

  it('exits 2 on an invalid config', async () => {
    const { CACHETAIL_SOURCE_USER: _user, ...env } = envFor(info.replica, info.tailerUser);
    const run = await doctor(env, ['--json']);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toEqual({
      error: { code: 'CONFIG_INVALID', message: expect.stringContaining('source.user') },
    });
  });
});

describe('devcluster extra servers', () => {
  it('start with custom options and are stopped by PID through their own registry', async () => {
    const group = await createExtraServers({ template: info.server.template, line: info.server.line });
    try {
      const server = await group.startServer({
        name: 'no-binlog',
        serverId: 300,
        options: ['--skip-log-bin'],
      });
      const conn = await open(server, { user: 'root', password: '' });
      try {
        expect(await conn.query('SELECT @@global.log_bin AS b, @@server_id AS id')).toEqual([
          // The connection reads numbers as strings (bigNumberStrings).
          { b: '0', id: '300' },
        ]);
      } finally {
        conn.close();
      }
      const pid = group.pids().get('no-binlog');
      expect(pid && isAlive(pid)).toBe(true);
      await group.stop();
      expect(isAlive(pid ?? 0)).toBe(false);
      expect(existsSync(group.baseDir)).toBe(false);
      // The shared cluster's servers are untouched.
      expect(await cluster.query('replica', 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await group.stop();
    }
  });
});
