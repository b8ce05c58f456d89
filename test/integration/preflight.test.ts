/**
 * The preflight and `cachetail doctor` on real MariaDB 10.11 servers: the shared cluster's replica passes;
 * extra primary → replica pairs (started here, stopped by PID in afterAll whatever happens) show each
 * refusal the tailer must make — a replica without log_slave_updates, a STATEMENT-format primary behind
 * a ROW-format replica, and an account without REPLICATION SLAVE.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { annotate } from '../../src/annotate/index.js';
import { clusterControl, createExtraServers } from '../../src/devcluster/index.js';
import type { Credentials, ExtraPair, ExtraServers, ServerEndpoint } from '../../src/devcluster/index.js';
import { freePort, isAlive } from '../../src/devcluster/proc.js';
import { ReplicationConnection } from '../../src/replication/client.js';
import { assertPreflight, runPreflight } from '../../src/replication/preflight.js';
import type { PreflightOptions, PreflightReport } from '../../src/replication/preflight.js';

const info = inject('cluster');
const cluster = clusterControl(info);
const OUR_SERVER_ID = 7_900;

let extra: ExtraServers;
/** log_slave_updates=OFF on the replica. */
let lsuOff: ExtraPair;
/** binlog_format=STATEMENT on the primary, ROW (the default) on the replica. */
let stmt: ExtraPair;
/** Configured like the shared cluster; used for the account checks. */
let plain: ExtraPair;

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

beforeAll(async () => {
  // Copying the shared cluster's bootstrapped datadir saves a mariadb-install-db run.
  extra = await createExtraServers({ template: info.server.template, line: info.server.line });
  // allSettled: afterAll must not stop the group while a sibling is still being spawned.
  const pairs = await Promise.allSettled([
    extra.startPair({ name: 'lsu-off', replicaOptions: ['--log-slave-updates=OFF'] }),
    extra.startPair({ name: 'stmt', primaryOptions: ['--binlog-format=STATEMENT'] }),
    extra.startPair({ name: 'plain' }),
  ]);
  [lsuOff, stmt, plain] = pairs.map((p) => {
    if (p.status === 'rejected') throw p.reason;
    return p.value;
  });
});

afterAll(async () => {
  await extra?.stop();
});

describe('the shared cluster replica', () => {
  it('passes every check', async () => {
    // The preflight reads the current relay log, and other suites write statement-format DML on the
    // shared primary on purpose (the binlog differential workload), which this replica correctly
    // reports as annotations lost. A fresh relay log makes this test independent of the file order;
    // it changes nothing the replica applies or logs.
    await cluster.query('replica', 'FLUSH RELAY LOGS');
    // An annotated write, so that the relay log shows how the primary logs rows.
    await cluster.query(
      'primary',
      `CREATE DATABASE IF NOT EXISTS preflight_it;
       CREATE TABLE IF NOT EXISTS preflight_it.t (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;`,
    );
    await cluster.query('primary', annotate('REPLACE INTO preflight_it.t VALUES (1, 1)', ['preflight:1']));
    await cluster.waitForReplicaCatchUp();

    const report = await preflight(info.replica, info.tailerUser);
    expect(statuses(report)).toEqual([
      ['log_bin', 'ok'],
      ['log_slave_updates', 'ok'],
      ['binlog_format', 'ok'],
      ['annotate_rows', 'ok'],
      ['replicate_annotate_rows', 'ok'],
      ['statement_primary_row_replica', 'ok'],
      ['primary_annotations', 'ok'],
      ['server_id_conflict', 'ok'],
      ['privileges', 'ok'],
      ['binlog_checksum', 'ok'],
      ['gtid_mode', 'ok'],
    ]);
    expect(report).toMatchObject({ ok: true, flavor: 'mariadb', serverId: info.replica.serverId });
    expect(assertPreflight(report)).toBe(report);
  });
});

describe('a replica with log_slave_updates=OFF', () => {
  it('fails log_slave_updates with the setting and the fix', async () => {
    await lsuOff.query('primary', 'CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY)');
    await lsuOff.query('primary', annotate('INSERT INTO d.t VALUES (1)', ['t:1']));
    await lsuOff.waitForReplicaCatchUp();

    const report = await preflight(lsuOff.replica, lsuOff.tailerUser);
    const at = address(lsuOff.replica);
    expect(failed(report)).toEqual([
      {
        id: 'log_slave_updates',
        status: 'fail',
        message: `log_slave_updates is OFF on ${at}: replicated transactions never reach this replica's binlog, so no key would ever be deleted.`,
        fix: "set log_slave_updates=ON in the replica's config and restart it.",
      },
    ]);
    // Without re-logging, the replica also stops fetching Annotate_rows, and its binlog holds no GTID.
    expect(report.checks.filter((c) => c.status === 'warn').map((c) => c.id)).toEqual([
      'primary_annotations',
      'gtid_mode',
    ]);
    expect(() => assertPreflight(report)).toThrow(
      expect.objectContaining({
        code: 'PREFLIGHT_FAILED',
        retryable: false,
        message:
          `preflight refused ${at} (${report.serverVersion}): 1 check failed\n` +
          `- [log_slave_updates] log_slave_updates is OFF on ${at}: replicated transactions never reach this ` +
          "replica's binlog, so no key would ever be deleted. Fix: set log_slave_updates=ON in the replica's config and restart it.",
      }),
    );
  });
});

describe('a STATEMENT-format primary behind a ROW-format replica', () => {
  let relayFile = '';
  let firstWriteAt = 0;

  beforeAll(async () => {
    await stmt.query('primary', 'CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY, v INT)');
    const writer = await stmt.connect('primary');
    try {
      // mysql2 sends the comments as they are; the primary logs each write as a Query event.
      await writer.query(annotate('INSERT INTO d.t VALUES (1, 1), (2, 2)', ['t:1', 't:2']));
      await writer.query(annotate('UPDATE d.t SET v = 3 WHERE id = 1', ['t:1']));
      await writer.query(annotate('DELETE FROM d.t WHERE id = 2', ['t:2']));
    } finally {
      await writer.end();
    }
    await stmt.waitForReplicaCatchUp();
    const [status] = await stmt.query('replica', 'SHOW SLAVE STATUS');
    relayFile = String(status?.Relay_Log_File);
    const events = await stmt.query('replica', `SHOW RELAYLOG EVENTS IN '${relayFile}'`);
    const first = events.find((e) => e.Event_type === 'Query' && String(e.Info).includes('INSERT INTO d.t'));
    firstWriteAt = Number(first?.Pos);
  });

  it('really loses the comments: the replica re-logs the writes as rows without Annotate_rows', async () => {
    const [master] = await stmt.query('replica', 'SHOW MASTER STATUS');
    const events = await stmt.query<RowDataPacket[]>(
      'replica',
      `SHOW BINLOG EVENTS IN '${String(master?.File)}'`,
    );
    const types = events.map((e) => String(e.Event_type));
    expect(types.filter((t) => /_rows_v1$/.test(t))).toEqual([
      'Write_rows_v1',
      'Update_rows_v1',
      'Delete_rows_v1',
    ]);
    expect(events.filter((e) => String(e.Info).includes('MEMCACHE_DIRTY'))).toEqual([]);
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
          '(FLUSH RELAY LOGS on the replica).',
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
});

describe('an account without REPLICATION SLAVE', () => {
  const noSlave: Credentials = { user: 'noslave', password: 'noslave' };

  beforeAll(async () => {
    await plain.query('primary', `CREATE USER 'noslave'@'127.0.0.1' IDENTIFIED BY 'noslave'`);
    await plain.query('primary', `GRANT BINLOG MONITOR, SLAVE MONITOR ON *.* TO 'noslave'@'127.0.0.1'`);
    await plain.query('primary', 'CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY)');
    await plain.query('primary', annotate('INSERT INTO d.t VALUES (1)', ['t:1']));
    await plain.waitForReplicaCatchUp();
  });

  it('fails privileges, and the server does refuse to stream to it', async () => {
    const report = await preflight(plain.replica, noSlave);
    expect(failed(report)).toEqual([
      {
        id: 'privileges',
        status: 'fail',
        message: `'noslave'@'127.0.0.1' lacks REPLICATION SLAVE on ${address(plain.replica)}: the server refuses the binlog dump, so cachetail cannot read any event.`,
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
      // MariaDB already refuses the registration that precedes the dump.
      await expect(
        conn.startDump(source, { kind: 'file', file: '', position: 4 }, handlers),
      ).rejects.toMatchObject({
        code: 'REPLICATION_SERVER_ERROR',
        message:
          "register as replica: server error 1045: Access denied for user 'noslave'@'127.0.0.1' (using password: YES)",
      });
    } finally {
      conn.close();
    }
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

  it('exits 0 on the shared cluster replica and prints one ✓ line per check', async () => {
    const run = await doctor(envFor(info.replica, info.tailerUser));
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${address(info.replica)}: mariadb 10\\.11\\.\\S+, server_id 2$`));
    expect(lines.slice(1, -1).map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(
      statusesLine('✓', [
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
      ]),
    );
    expect(lines.at(-1)).toBe('OK: 11 ok, 0 warning(s), 0 failed');
  });

  it('exits 1 on the replica without log_slave_updates, printing the failure and its fix', async () => {
    const run = await doctor(envFor(lsuOff.replica, lsuOff.tailerUser));
    expect(run.code).toBe(1);
    const at = address(lsuOff.replica);
    expect(run.stdout).toContain(
      `\n✗ log_slave_updates             log_slave_updates is OFF on ${at}: replicated transactions never reach this replica's binlog, so no key would ever be deleted.\n` +
        "                                Fix: set log_slave_updates=ON in the replica's config and restart it.\n",
    );
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('FAIL: 8 ok, 2 warning(s), 1 failed');
  });

  it('prints the report as JSON with --json', async () => {
    const run = await doctor(envFor(stmt.replica, stmt.tailerUser), ['--json']);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as PreflightReport;
    expect(failed(report).map((c) => c.id)).toEqual(['statement_primary_row_replica']);
    expect(report).toMatchObject({
      ok: false,
      server: address(stmt.replica),
      serverId: stmt.replica.serverId,
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

  it('exits 2 on an invalid config', async () => {
    const { CACHETAIL_SOURCE_USER: _user, ...env } = envFor(info.replica, info.tailerUser);
    const run = await doctor(env, ['--json']);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toEqual({
      error: { code: 'CONFIG_INVALID', message: expect.stringContaining('source.user') },
    });
  });
});

function statusesLine(mark: string, ids: string[]): string[] {
  return ids.map((id) => `${mark} ${id}`);
}

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
