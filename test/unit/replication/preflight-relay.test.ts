// What the relay log tells about the primary: statement-logged writes behind a ROW replica, and row events
// without their statement text. Fake MariaDB replica (server 2, primary 1) unless said otherwise.
import { describe, expect, it } from 'vitest';
import { runPreflight } from '../../../src/replication/preflight.js';
import type { PreflightOptions } from '../../../src/replication/preflight.js';
import { analyzeRelayEvents, writeVerb } from '../../../src/replication/preflight-relay.js';
import type { RelayEvent } from '../../../src/replication/preflight-types.js';
import { denied, fakeConnection, mariadbReplica, relayRows, ServerError } from './preflight-fake.js';
import type { FakeServer } from './preflight-fake.js';

const OPTS: PreflightOptions = { ourServerId: 4_000_001, server: '127.0.0.1:3307' };
const FILE = 'relay-bin.000002';

async function check(server: FakeServer, id: string, opts: PreflightOptions = OPTS) {
  const report = await runPreflight(fakeConnection(server), opts);
  return report.checks.find((c) => c.id === id);
}

const withRelay = (events: [string, number, string][], variables: Record<string, string> = {}) =>
  mariadbReplica({
    relay: { [FILE]: relayRows(FILE, events) },
    variables: { ...mariadbReplica().variables, ...variables },
  });

/** A STATEMENT-format primary: BEGIN GTID, the write as a Query event, COMMIT. */
const STATEMENT_WRITES: [string, number, string][] = [
  ['Format_desc', 2, 'Server ver: 10.11.19-MariaDB-log, Binlog ver: 4'],
  ['Gtid', 1, 'GTID 0-1-1'],
  ['Query', 1, 'CREATE TABLE d.t (id INT PRIMARY KEY)'],
  ['Gtid', 1, 'BEGIN GTID 0-1-2'],
  ['Query', 1, 'use `d`; /* MEMCACHE_DIRTY t:1 */ INSERT INTO t VALUES (1)'],
  ['Xid', 1, 'COMMIT /* xid=25 */'],
  ['Gtid', 1, 'BEGIN GTID 0-1-3'],
  ['Query', 1, 'use `d`; UPDATE t SET id = 2 /* MEMCACHE_DIRTY t:1 */'],
  ['Xid', 1, 'COMMIT /* xid=26 */'],
];

const STATEMENT_FIX =
  'set binlog_format=ROW on the primary (in its config and with SET GLOBAL; open sessions keep their format until they reconnect), or binlog_format=MIXED on the replica, or use outbox mode.';

describe('writeVerb', () => {
  it.each([
    ['use `d`; INSERT INTO t VALUES (1)', 'INSERT'],
    ['use `we``ird`; update t set a = 1', 'UPDATE'],
    ['/* MEMCACHE_DIRTY k */ DELETE FROM t', 'DELETE'],
    ['# note\nREPLACE INTO t VALUES (1)', 'REPLACE'],
    ['-- note\n  LOAD DATA INFILE "x" INTO TABLE t', 'LOAD DATA'],
    ['/*!50001 INSERT */ INTO t VALUES (1)', 'INSERT'],
    ['/*M!100101 UPDATE */ t SET a = 1', 'UPDATE'],
    ['WITH x AS (SELECT 1) UPDATE t, x SET t.a = 1', 'WITH'],
  ])('%s → %s', (info, verb) => {
    expect(writeVerb(info)).toBe(verb);
  });

  it.each([
    'BEGIN',
    'COMMIT',
    'CREATE TABLE t (id INT)',
    'use `d`; ALTER TABLE t ADD c INT',
    "GRANT SELECT ON *.* TO 'u'@'h'",
    'TRUNCATE t',
    'XA START 0x31',
    '/* unterminated',
    '',
  ])('%j is not a write', (info) => {
    expect(writeVerb(info)).toBeUndefined();
  });
});

describe('analyzeRelayEvents', () => {
  const ev = (type: string, serverId: number, info = '', pos = 0): RelayEvent => ({
    file: FILE,
    pos,
    type,
    serverId,
    info,
  });

  it('counts statements, not tables: a multi-table statement has several Table_map events', () => {
    const a = analyzeRelayEvents(
      [
        ev('Annotate_rows', 1, 'UPDATE a, b SET …'),
        ev('Table_map', 1, 'table_id: 1 (d.a)'),
        ev('Table_map', 1, 'table_id: 2 (d.b)'),
        ev('Update_rows_v1', 1),
        ev('Update_rows_v1', 1),
        ev('Table_map', 1, 'table_id: 1 (d.a)', 700),
        ev('Write_rows_compressed_v1', 1),
      ],
      2,
    );
    expect(a).toEqual({
      events: 7,
      statementWrites: 0,
      annotatedRowStatements: 1,
      unannotatedRowStatements: 1,
      firstUnannotated: { file: FILE, pos: 700, serverId: 1, what: 'd.a' },
      opaque: 0,
    });
  });

  it("ignores the replica's own events and counts what it cannot see into", () => {
    const a = analyzeRelayEvents(
      [ev('Query', 2, 'INSERT INTO t VALUES (1)'), ev('Transaction_payload', 1, "compression='ZSTD'")],
      2,
    );
    expect(a).toMatchObject({ statementWrites: 0, opaque: 1 });
  });

  it('treats Execute_load_query as a LOAD DATA statement', () => {
    const a = analyzeRelayEvents(
      [ev('Begin_load_query', 1), ev('Execute_load_query', 1, 'LOAD DATA …', 40)],
      2,
    );
    expect(a.firstStatementWrite).toEqual({ file: FILE, pos: 40, serverId: 1, what: 'LOAD DATA' });
  });
});

describe('statement_primary_row_replica', () => {
  it('fails when the relay log holds statement-logged writes and the replica logs rows', async () => {
    expect(await check(withRelay(STATEMENT_WRITES), 'statement_primary_row_replica')).toEqual({
      id: 'statement_primary_row_replica',
      status: 'fail',
      message:
        '127.0.0.1:3307 has binlog_format=ROW and its primary logs writes as statements: relay log relay-bin.000002 holds 2 writes logged as statements (first: INSERT from server_id 1 at position 404); the replica re-logs statement-logged writes as row events without the statement text, so their MEMCACHE_DIRTY comments are lost.',
      fix: `${STATEMENT_FIX} This check reads the current relay log: after the primary switched, it passes once the replica has rotated it (FLUSH LOCAL RELAY LOGS on the replica: without LOCAL the statement is also written to its binlog, as a transaction of its own).`,
    });
  });

  it('passes the same relay log when the replica logs MIXED (statements stay statements)', async () => {
    expect(
      await check(withRelay(STATEMENT_WRITES, { binlog_format: 'MIXED' }), 'statement_primary_row_replica'),
    ).toEqual({
      id: 'statement_primary_row_replica',
      status: 'ok',
      message:
        'binlog_format=MIXED on 127.0.0.1:3307: writes its primary logs as statements are re-logged as statements, with their text.',
    });
  });

  it('cannot tell yet while nothing was replicated', async () => {
    expect(await check(withRelay(STATEMENT_WRITES.slice(0, 3)), 'statement_primary_row_replica')).toEqual({
      id: 'statement_primary_row_replica',
      status: 'warn',
      message:
        "cannot tell yet: the relay log relay-bin.000002 of 127.0.0.1:3307 holds no replicated write (3 events read), so the primary's binlog_format is unknown.",
    });
  });

  it('cannot tell when the account may not read the relay log, and says which grant helps', async () => {
    const server = mariadbReplica({ relay: { [FILE]: denied('SLAVE MONITOR') } });
    expect(await check(server, 'statement_primary_row_replica')).toEqual({
      id: 'statement_primary_row_replica',
      status: 'warn',
      message:
        'cannot tell: reading the relay log relay-bin.000002 of 127.0.0.1:3307 failed: Access denied; you need (at least one of) the SLAVE MONITOR privilege(s) for this operation.',
      fix: "GRANT SLAVE MONITOR ON *.* TO 'cachetail'@'127.0.0.1' (on the primary, so that the grant replicates).",
    });
  });

  it('cannot tell when the relay log vanished (purged meanwhile), without a grant to suggest', async () => {
    const server = mariadbReplica({ relay: { [FILE]: new ServerError(1220, 'Could not find target log') } });
    expect(await check(server, 'statement_primary_row_replica')).toEqual({
      id: 'statement_primary_row_replica',
      status: 'warn',
      message:
        'cannot tell: reading the relay log relay-bin.000002 of 127.0.0.1:3307 failed: Could not find target log.',
    });
  });

  it('cannot tell when the replica status is hidden', async () => {
    const server = mariadbReplica({ replicaStatus: denied('SUPER, SLAVE MONITOR') });
    expect(await check(server, 'statement_primary_row_replica')).toEqual({
      id: 'statement_primary_row_replica',
      status: 'warn',
      message:
        'cannot tell: SHOW ALL SLAVES STATUS failed: Access denied; you need (at least one of) the SUPER, SLAVE MONITOR privilege(s) for this operation.',
      fix: "GRANT SLAVE MONITOR ON *.* TO 'cachetail'@'127.0.0.1' (on the primary, so that the grant replicates).",
    });
  });

  it('reads every multi-source connection', async () => {
    const conn = fakeConnection(
      mariadbReplica({
        replicaStatus: [
          {
            Connection_name: '',
            Relay_Log_File: 'relay-bin.000002',
            Master_Server_Id: 1,
            Master_Host: 'a',
            Master_Port: 1,
          },
          {
            Connection_name: "o'k",
            Relay_Log_File: 'relay-bin-o@0027k.000001',
            Master_Server_Id: 5,
            Master_Host: 'b',
            Master_Port: 1,
          },
        ],
        relay: {
          [FILE]: relayRows(FILE, []),
          'relay-bin-o@0027k.000001': relayRows('relay-bin-o@0027k.000001', STATEMENT_WRITES),
        },
      }),
    );
    const report = await runPreflight(conn, OPTS);
    expect(conn.statements).toContain(
      "SHOW RELAYLOG 'o\\'k' EVENTS IN 'relay-bin-o@0027k.000001' LIMIT 2000",
    );
    expect(report.checks.find((c) => c.id === 'statement_primary_row_replica')?.message).toContain(
      'relay log relay-bin-o@0027k.000001 holds 2 writes logged as statements',
    );
  });

  describe('with a primary connection', () => {
    const primary = (variables: Record<string, string>) =>
      fakeConnection(
        mariadbReplica({ variables: { ...mariadbReplica().variables, server_id: '1', ...variables } }),
      );

    it("fails on the primary's global STATEMENT format before anything was replicated", async () => {
      const opts = {
        ...OPTS,
        primary: primary({ binlog_format: 'STATEMENT' }),
        primaryServer: '10.0.0.1:3306',
      };
      expect(await check(withRelay([]), 'statement_primary_row_replica', opts)).toEqual({
        id: 'statement_primary_row_replica',
        status: 'fail',
        message:
          '127.0.0.1:3307 has binlog_format=ROW and its primary 10.0.0.1:3306 has binlog_format=STATEMENT: the replica re-logs statement-logged writes as row events without the statement text, so their MEMCACHE_DIRTY comments are lost.',
        fix: STATEMENT_FIX,
      });
    });

    it('still trusts the relay log over a ROW global (sessions may set their own format)', async () => {
      const opts = { ...OPTS, primary: primary({ binlog_format: 'ROW' }), primaryServer: '10.0.0.1:3306' };
      expect((await check(withRelay(STATEMENT_WRITES), 'statement_primary_row_replica', opts))?.status).toBe(
        'fail',
      );
      expect(await check(withRelay([]), 'statement_primary_row_replica', opts)).toEqual({
        id: 'statement_primary_row_replica',
        status: 'ok',
        message: 'the primary 10.0.0.1:3306 has binlog_format=ROW.',
      });
    });

    it('falls back to the relay log when the primary cannot be read', async () => {
      const broken = { ...primary({}), query: () => Promise.reject(new Error('connect ECONNREFUSED')) };
      const report = await runPreflight(fakeConnection(withRelay(STATEMENT_WRITES)), {
        ...OPTS,
        primary: broken,
      });
      expect(report.checks.find((c) => c.id === 'statement_primary_row_replica')?.status).toBe('fail');
    });
  });
});

describe('primary_annotations', () => {
  const UNANNOTATED: [string, number, string][] = [
    ['Gtid', 1, 'BEGIN GTID 0-1-2'],
    ['Table_map', 1, 'table_id: 18 (d.t)'],
    ['Write_rows_v1', 1, 'table_id: 18 flags: STMT_END_F'],
    ['Xid', 1, 'COMMIT /* xid=25 */'],
    ['Gtid', 1, 'BEGIN GTID 0-1-3'],
    ['Table_map', 1, 'table_id: 18 (d.t)'],
    ['Update_rows_v1', 1, 'table_id: 18 flags: STMT_END_F'],
    ['Xid', 1, 'COMMIT /* xid=26 */'],
  ];
  const FIX =
    'SET GLOBAL binlog_annotate_row_events=ON on the primary and set it in its config (ON is the default).';

  it('fails when no row-logged statement of the primary carries its text', async () => {
    expect(await check(withRelay(UNANNOTATED), 'primary_annotations')).toEqual({
      id: 'primary_annotations',
      status: 'fail',
      message:
        "the primary of 127.0.0.1:3307 logs row events without their statement text (binlog_annotate_row_events is OFF there): relay log relay-bin.000002 holds 2 row-logged statements and no Annotate_rows event (first: table d.t from server_id 1 at position 104), so no MEMCACHE_DIRTY comment can reach 127.0.0.1:3307's binlog.",
      fix: FIX,
    });
  });

  it('warns when only some sessions write without annotations', async () => {
    const mixed: [string, number, string][] = [
      ...UNANNOTATED.slice(0, 4),
      ['Gtid', 1, 'BEGIN GTID 0-1-3'],
      ['Annotate_rows', 1, 'UPDATE d.t SET id = 2'],
      ...UNANNOTATED.slice(5),
    ];
    expect(await check(withRelay(mixed), 'primary_annotations')).toEqual({
      id: 'primary_annotations',
      status: 'warn',
      message:
        'relay log relay-bin.000002 of 127.0.0.1:3307 holds 1 row-logged statement without an Annotate_rows event (first: table d.t from server_id 1 at position 104) besides 1 with one: some sessions on the primary turn binlog_annotate_row_events off, and the comments of their writes are lost.',
      fix: 'make sure no writer sets binlog_annotate_row_events=OFF in its session.',
    });
  });

  it('cannot tell when the replica does not fetch annotations (log_slave_updates OFF)', async () => {
    expect(await check(withRelay(UNANNOTATED, { log_slave_updates: 'OFF' }), 'primary_annotations')).toEqual({
      id: 'primary_annotations',
      status: 'warn',
      message:
        'cannot tell whether the primary writes Annotate_rows events: 127.0.0.1:3307 does not fetch them (log_slave_updates is OFF).',
    });
  });

  it('cannot tell yet without row events', async () => {
    expect(await check(withRelay(STATEMENT_WRITES), 'primary_annotations')).toEqual({
      id: 'primary_annotations',
      status: 'warn',
      message:
        'cannot tell yet: the relay log relay-bin.000002 of 127.0.0.1:3307 holds no row-logged statement (9 events read).',
    });
  });

  it("fails on the primary's setting read directly", async () => {
    const primary = fakeConnection(
      mariadbReplica({ variables: { ...mariadbReplica().variables, binlog_annotate_row_events: 'OFF' } }),
    );
    const opts = { ...OPTS, primary, primaryServer: '10.0.0.1:3306' };
    expect(await check(withRelay([]), 'primary_annotations', opts)).toEqual({
      id: 'primary_annotations',
      status: 'fail',
      message:
        "binlog_annotate_row_events is OFF on the primary 10.0.0.1:3306: its row events carry no statement text, so no MEMCACHE_DIRTY comment can reach 127.0.0.1:3307's binlog.",
      fix: FIX,
    });
  });

  it('does not apply to a server that is not a replica', async () => {
    expect(await check(mariadbReplica({ replicaStatus: [] }), 'primary_annotations')).toEqual({
      id: 'primary_annotations',
      status: 'ok',
      message: '127.0.0.1:3307 is not a replica: there is no primary to check.',
    });
  });
});
