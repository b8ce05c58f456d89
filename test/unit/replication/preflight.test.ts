// Preflight on a fake MariaDB 10.11 replica: the statements it runs, every settings check with its exact
// message, and the error/report formats. Relay-log, privilege and MySQL checks have their own files.
import { describe, expect, it } from 'vitest';
import type { ReplicationConnection } from '../../../src/replication/client.js';
import {
  assertPreflight,
  formatPreflightReport,
  PREFLIGHT_CHECK_IDS,
  runPreflight,
} from '../../../src/replication/preflight.js';
import type { PreflightConnection, PreflightReport } from '../../../src/replication/preflight.js';
import { denied, fakeConnection, mariadbReplica, ServerError } from './preflight-fake.js';
import type { FakeServer } from './preflight-fake.js';

const OPTS = { ourServerId: 4_000_001, server: '127.0.0.1:3307' };

async function run(server: FakeServer, opts = OPTS): Promise<PreflightReport> {
  return runPreflight(fakeConnection(server), opts);
}

async function check(server: FakeServer, id: string) {
  const report = await run(server);
  const found = report.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id}`);
  return found;
}

const vars = (changes: Record<string, string>) => ({ ...mariadbReplica().variables, ...changes });
const notReplica = (changes: Record<string, string> = {}) =>
  mariadbReplica({ replicaStatus: [], variables: vars(changes) });

describe('runPreflight on MariaDB', () => {
  it("takes the tailer's ReplicationConnection as it is (a compile-time check)", () => {
    const fits = (c: ReplicationConnection): PreflightConnection => c;
    expect(fits).toBeTypeOf('function');
  });

  it('runs only read-only statements, in this order', async () => {
    const conn = fakeConnection(mariadbReplica());
    await runPreflight(conn, OPTS);
    expect(conn.statements.map((s) => s.replace(/IN \(.*\)/, 'IN (…)'))).toEqual([
      'SHOW GLOBAL VARIABLES WHERE Variable_name IN (…)',
      'SELECT CURRENT_USER() AS user',
      'SHOW GRANTS',
      'SHOW ALL SLAVES STATUS',
      "SHOW RELAYLOG EVENTS IN 'relay-bin.000002' LIMIT 2000",
      'SHOW MASTER STATUS',
    ]);
  });

  it('passes a replica set up like the devcluster, with every check ok', async () => {
    const report = await run(mariadbReplica());
    expect(report).toEqual({
      flavor: 'mariadb',
      serverVersion: '10.11.19-MariaDB-0+deb12u1-log',
      server: '127.0.0.1:3307',
      serverId: 2,
      ok: true,
      checks: [
        {
          id: 'log_bin',
          status: 'ok',
          message: 'log_bin is ON: 127.0.0.1:3307 writes a binlog for cachetail to read.',
        },
        {
          id: 'log_slave_updates',
          status: 'ok',
          message:
            'log_slave_updates is ON: transactions 127.0.0.1:3307 replicates are re-logged into its own binlog.',
        },
        {
          id: 'binlog_format',
          status: 'ok',
          message:
            'binlog_format=ROW: each write reaches the binlog as row events, its statement text only in an Annotate_rows event before them.',
        },
        {
          id: 'annotate_rows',
          status: 'ok',
          message:
            'binlog_annotate_row_events is ON: row events of statements run on 127.0.0.1:3307 itself follow their text in an Annotate_rows event.',
        },
        {
          id: 'replicate_annotate_rows',
          status: 'ok',
          message:
            "replicate_annotate_row_events is ON: the primary's Annotate_rows events are fetched and re-logged.",
        },
        {
          id: 'statement_primary_row_replica',
          status: 'ok',
          message:
            'the primary logs writes as rows: the relay log relay-bin.000002 holds 2 row-logged statements and no statement-logged write.',
        },
        {
          id: 'primary_annotations',
          status: 'ok',
          message:
            "the primary's row events carry their statement text: the relay log relay-bin.000002 holds 2 row-logged statements, each after an Annotate_rows event.",
        },
        {
          id: 'server_id_conflict',
          status: 'ok',
          message: 'cachetail registers as server id 4000001; 127.0.0.1:3307 is server_id 2, its primary 1.',
        },
        {
          id: 'privileges',
          status: 'ok',
          message:
            "'cachetail'@'127.0.0.1' has REPLICATION SLAVE (for the binlog dump) and may run SHOW MASTER STATUS, SHOW ALL SLAVES STATUS and SHOW RELAYLOG EVENTS on 127.0.0.1:3307.",
        },
        {
          id: 'binlog_checksum',
          status: 'ok',
          message: 'binlog_checksum=CRC32: cachetail verifies every event.',
        },
        {
          id: 'gtid_mode',
          status: 'ok',
          message: 'gtid_binlog_pos=0-1-3, gtid_strict_mode=ON: checkpoints resume by GTID.',
        },
      ],
    });
    expect(PREFLIGHT_CHECK_IDS).toEqual(expect.arrayContaining(report.checks.map((c) => c.id)));
  });

  it('names the server by @@hostname:@@port when not told', async () => {
    const report = await runPreflight(fakeConnection(mariadbReplica()), { ourServerId: 9 });
    expect(report.server).toBe('db2:3307');
  });

  it('lets a lost connection through (the tailer reconnects), unlike a refused statement', async () => {
    const lost = Object.assign(new Error('Connection lost: The server closed the connection.'), {
      fatal: true,
    });
    const conn = fakeConnection(mariadbReplica());
    const failing = {
      ...conn,
      query: (sql: string) => (sql === 'SHOW GRANTS' ? Promise.reject(lost) : conn.query(sql)),
    };
    await expect(runPreflight(failing, OPTS)).rejects.toBe(lost);
  });
});

describe('log_bin', () => {
  it('fails when the server writes no binlog', async () => {
    expect(await check(mariadbReplica({ variables: vars({ log_bin: 'OFF' }) }), 'log_bin')).toEqual({
      id: 'log_bin',
      status: 'fail',
      message:
        'log_bin is OFF on 127.0.0.1:3307: it writes no binlog, so cachetail has nothing to read and no key would ever be deleted.',
      fix: "set log_bin=mysql-bin (any base name) in 127.0.0.1:3307's config and restart it.",
    });
  });
});

describe('log_slave_updates', () => {
  it('fails on a replica that does not re-log what it replicates', async () => {
    expect(
      await check(mariadbReplica({ variables: vars({ log_slave_updates: 'OFF' }) }), 'log_slave_updates'),
    ).toEqual({
      id: 'log_slave_updates',
      status: 'fail',
      message:
        "log_slave_updates is OFF on 127.0.0.1:3307: replicated transactions never reach this replica's binlog, so no key would ever be deleted.",
      fix: "set log_slave_updates=ON in the replica's config and restart it.",
    });
  });

  it('warns when the server is not a replica at all', async () => {
    expect(await check(notReplica(), 'log_slave_updates')).toEqual({
      id: 'log_slave_updates',
      status: 'warn',
      message:
        '127.0.0.1:3307 is not a replica (SHOW ALL SLAVES STATUS is empty): cachetail sees only the writes made directly on it.',
      fix: "point cachetail at the region's replica, unless tailing 127.0.0.1:3307 itself is intended.",
    });
    expect(await check(notReplica({ log_slave_updates: 'OFF' }), 'log_slave_updates')).toEqual({
      id: 'log_slave_updates',
      status: 'warn',
      message:
        '127.0.0.1:3307 is not a replica (SHOW ALL SLAVES STATUS is empty): cachetail sees only the writes made directly on it, and with log_slave_updates OFF it would not see replicated writes if it became a replica.',
      fix: "point cachetail at the region's replica, unless tailing 127.0.0.1:3307 itself is intended; before 127.0.0.1:3307 replicates, set log_slave_updates=ON in the replica's config and restart it.",
    });
  });

  it('fails when OFF and the replica status is hidden from the account', async () => {
    const server = mariadbReplica({
      variables: vars({ log_slave_updates: 'OFF' }),
      replicaStatus: denied('SUPER, SLAVE MONITOR'),
    });
    expect(await check(server, 'log_slave_updates')).toEqual({
      id: 'log_slave_updates',
      status: 'fail',
      message:
        'log_slave_updates is OFF on 127.0.0.1:3307, and whether 127.0.0.1:3307 is a replica is unknown (SHOW ALL SLAVES STATUS failed: Access denied; you need (at least one of) the SUPER, SLAVE MONITOR privilege(s) for this operation): if it is, replicated transactions never reach its binlog, so no key would ever be deleted.',
      fix: "set log_slave_updates=ON in the replica's config and restart it. If 127.0.0.1:3307 is not a replica, grant SLAVE MONITOR so that the preflight can see that.",
    });
    const on = mariadbReplica({ replicaStatus: denied('SUPER, SLAVE MONITOR') });
    expect((await check(on, 'log_slave_updates')).status).toBe('ok');
  });
});

describe('binlog_format', () => {
  it.each([
    [
      'MIXED',
      'ok',
      'binlog_format=MIXED: writes logged as statements keep their text; those logged as rows carry it only in an Annotate_rows event.',
    ],
    [
      'STATEMENT',
      'ok',
      'binlog_format=STATEMENT: every write is logged as its statement text, comments included.',
    ],
    [
      'ROWS',
      'warn',
      'binlog_format=ROWS on 127.0.0.1:3307: not a format cachetail knows; annotations may not reach the binlog.',
    ],
  ])('%s → %s', async (format, status, message) => {
    const found = await check(
      mariadbReplica({ variables: vars({ binlog_format: format }) }),
      'binlog_format',
    );
    expect(found).toMatchObject({ status, message });
  });
});

describe('annotate_rows (binlog_annotate_row_events)', () => {
  const fix =
    'SET GLOBAL binlog_annotate_row_events=ON on 127.0.0.1:3307 and set it in its config (ON is the default).';

  it('fails on a server that is not a replica: its own row events would carry no text', async () => {
    expect(await check(notReplica({ binlog_annotate_row_events: 'OFF' }), 'annotate_rows')).toEqual({
      id: 'annotate_rows',
      status: 'fail',
      message:
        'binlog_annotate_row_events is OFF on 127.0.0.1:3307: its row events are logged without the statement text, so no MEMCACHE_DIRTY comment reaches its binlog.',
      fix,
    });
  });

  it('warns on a replica: replicated Annotate_rows events are re-logged anyway', async () => {
    expect(
      await check(
        mariadbReplica({ variables: vars({ binlog_annotate_row_events: 'OFF' }) }),
        'annotate_rows',
      ),
    ).toEqual({
      id: 'annotate_rows',
      status: 'warn',
      message:
        'binlog_annotate_row_events is OFF on 127.0.0.1:3307: replicated statements keep their Annotate_rows events (replicate_annotate_row_events), but writes run on 127.0.0.1:3307 itself are logged without their text.',
      fix,
    });
  });

  it('warns while binlog_format=STATEMENT', async () => {
    const server = notReplica({ binlog_annotate_row_events: 'OFF', binlog_format: 'STATEMENT' });
    expect(await check(server, 'annotate_rows')).toEqual({
      id: 'annotate_rows',
      status: 'warn',
      message:
        'binlog_annotate_row_events is OFF on 127.0.0.1:3307: harmless while binlog_format=STATEMENT, but row-logged statements would lose their text if the format changed.',
      fix,
    });
  });
});

describe('replicate_annotate_rows (replicate_annotate_row_events)', () => {
  it('fails on a replica that neither fetches nor re-logs the annotations', async () => {
    const server = mariadbReplica({ variables: vars({ replicate_annotate_row_events: 'OFF' }) });
    expect(await check(server, 'replicate_annotate_rows')).toEqual({
      id: 'replicate_annotate_rows',
      status: 'fail',
      message:
        "replicate_annotate_row_events is OFF on 127.0.0.1:3307: it neither fetches the primary's Annotate_rows events nor re-logs them, so replicated row events reach its binlog without the statement text and no key would be deleted.",
      fix: "set replicate_annotate_row_events=ON in the replica's config and restart it.",
    });
  });

  it('does not apply to a server that is not a replica', async () => {
    expect(
      await check(notReplica({ replicate_annotate_row_events: 'OFF' }), 'replicate_annotate_rows'),
    ).toEqual({
      id: 'replicate_annotate_rows',
      status: 'ok',
      message: '127.0.0.1:3307 is not a replica: replicate_annotate_row_events does not apply.',
    });
  });

  it('says that it waits for log_slave_updates', async () => {
    const server = mariadbReplica({ variables: vars({ log_slave_updates: 'OFF' }) });
    expect(await check(server, 'replicate_annotate_rows')).toEqual({
      id: 'replicate_annotate_rows',
      status: 'ok',
      message: 'replicate_annotate_row_events is ON: it takes effect only once log_slave_updates is ON.',
    });
  });
});

describe('server_id_conflict', () => {
  const fix =
    'set source.serverId (CACHETAIL_SOURCE_SERVER_ID) to an id that no server and no other cachetail in the topology uses (one id per tailer).';
  const why =
    'server ids must be unique in a replication topology: servers skip events carrying their own id and a second dump with a used id evicts the first.';

  it("fails when cachetail's id is the replica's", async () => {
    const report = await run(mariadbReplica(), { ...OPTS, ourServerId: 2 });
    expect(report.checks.find((c) => c.id === 'server_id_conflict')).toEqual({
      id: 'server_id_conflict',
      status: 'fail',
      message: `cachetail's server id 2 (source.serverId) is also the server_id of 127.0.0.1:3307: ${why}`,
      fix,
    });
  });

  it("fails when cachetail's id is the primary's", async () => {
    const report = await run(mariadbReplica(), { ...OPTS, ourServerId: 1 });
    expect(report.checks.find((c) => c.id === 'server_id_conflict')).toEqual({
      id: 'server_id_conflict',
      status: 'fail',
      message: `cachetail's server id 1 (source.serverId) is also the server_id of 127.0.0.1:3307's primary 10.0.0.1:3306: ${why}`,
      fix,
    });
  });
});

describe('binlog_checksum', () => {
  it('warns without checksums and fails on an algorithm cachetail cannot read', async () => {
    expect(
      await check(mariadbReplica({ variables: vars({ binlog_checksum: 'NONE' }) }), 'binlog_checksum'),
    ).toEqual({
      id: 'binlog_checksum',
      status: 'warn',
      message:
        'binlog_checksum=NONE on 127.0.0.1:3307: events carry no checksum, so a corrupted event cannot be detected.',
      fix: 'SET GLOBAL binlog_checksum=CRC32 on 127.0.0.1:3307 and set it in its config.',
    });
    expect(
      await check(mariadbReplica({ variables: vars({ binlog_checksum: 'XXH3' }) }), 'binlog_checksum'),
    ).toEqual({
      id: 'binlog_checksum',
      status: 'fail',
      message: 'binlog_checksum=XXH3 on 127.0.0.1:3307: cachetail reads CRC32 or NONE only.',
      fix: 'SET GLOBAL binlog_checksum=CRC32 on 127.0.0.1:3307 and set it in its config.',
    });
  });
});

describe('gtid_mode (MariaDB GTID position)', () => {
  it('warns while the binlog holds no GTID', async () => {
    const server = mariadbReplica({ variables: vars({ gtid_binlog_pos: '', gtid_strict_mode: 'OFF' }) });
    expect(await check(server, 'gtid_mode')).toEqual({
      id: 'gtid_mode',
      status: 'warn',
      message:
        '127.0.0.1:3307 has no GTID in its binlog yet (gtid_binlog_pos is empty, gtid_strict_mode=OFF): until a transaction arrives, a checkpoint can only resume by file/position.',
    });
  });
});

describe('assertPreflight and the report', () => {
  it('throws a non-retryable PREFLIGHT_FAILED listing every failed check with its fix', async () => {
    const report = await run(
      mariadbReplica({ variables: vars({ log_slave_updates: 'OFF', replicate_annotate_row_events: 'OFF' }) }),
    );
    expect(report.ok).toBe(false);
    let thrown: unknown;
    try {
      assertPreflight(report);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ name: 'CachetailError', code: 'PREFLIGHT_FAILED', retryable: false });
    expect((thrown as Error).message).toBe(
      [
        'preflight refused 127.0.0.1:3307 (10.11.19-MariaDB-0+deb12u1-log): 2 checks failed',
        "- [log_slave_updates] log_slave_updates is OFF on 127.0.0.1:3307: replicated transactions never reach this replica's binlog, so no key would ever be deleted. Fix: set log_slave_updates=ON in the replica's config and restart it.",
        "- [replicate_annotate_rows] replicate_annotate_row_events is OFF on 127.0.0.1:3307: it neither fetches the primary's Annotate_rows events nor re-logs them, so replicated row events reach its binlog without the statement text and no key would be deleted. Fix: set replicate_annotate_row_events=ON in the replica's config and restart it.",
      ].join('\n'),
    );
  });

  it('returns a report without failures (warnings allowed)', async () => {
    const report = await run(notReplica());
    expect(report.ok).toBe(true);
    expect(assertPreflight(report)).toBe(report);
  });

  it('formats one line per check, with the fix under what is not ok', () => {
    const report: PreflightReport = {
      flavor: 'mariadb',
      serverVersion: '10.11.19-MariaDB',
      server: 'db:3307',
      serverId: 2,
      ok: false,
      checks: [
        { id: 'log_bin', status: 'ok', message: 'log_bin is ON.' },
        { id: 'gtid_mode', status: 'warn', message: 'no GTID yet.' },
        { id: 'log_slave_updates', status: 'fail', message: 'log_slave_updates is OFF.', fix: 'set it ON.' },
      ],
    };
    expect(formatPreflightReport(report)).toBe(
      [
        'db:3307: mariadb 10.11.19-MariaDB, server_id 2',
        '✓ log_bin           log_bin is ON.',
        '! gtid_mode         no GTID yet.',
        '✗ log_slave_updates log_slave_updates is OFF.',
        '                    Fix: set it ON.',
        'FAIL: 1 ok, 1 warning(s), 1 failed',
        '',
      ].join('\n'),
    );
  });

  it('keeps reading when one statement fails for another reason than privileges', async () => {
    const server = mariadbReplica({ binlogStatus: new ServerError(1105, 'Unknown error') });
    expect((await run(server)).ok).toBe(true);
  });
});
