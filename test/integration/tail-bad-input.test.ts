/**
 * `cachetail tail` as a process against setups it must refuse, on every server line: a wrong password,
 * an account without the replication grants, a server without a binlog, an account created REQUIRE SSL
 * reached without TLS, and TLS to a certificate it cannot verify. Each refusal is final: the process
 * stays up (alive for the orchestrator, not ready), /status and /readyz give the code and the message
 * naming the fix, it connects no more (no retry loop: the server counts no new connection), and no
 * memcached key is deleted — annotated writes keep committing meanwhile.
 *
 * And the logins that must work: the REQUIRE SSL account over TLS (source.ssl with the server's CA), and
 * a fresh login of the plain account without TLS after FLUSH LOCAL PRIVILEGES emptied the server's
 * authentication cache — on MySQL, caching_sha2_password's full authentication, which over a plain
 * connection goes through the server's RSA key.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import memjs from 'memjs';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { annotate } from '../../src/annotate/index.js';
import { createExtraServers } from '../../src/devcluster/index.js';
import type { ExtraPair, ExtraServers, ServerEndpoint } from '../../src/devcluster/index.js';
import { freePort } from '../../src/devcluster/proc.js';
import { connect } from '../../src/devcluster/sql.js';
import { memcachedStats } from '../helpers/memcached-stats.js';
import { serverTls, type ServerTls } from '../helpers/server-tls.js';
import { spawnTailer, type TailerProcess } from '../helpers/tailer-process.js';
import { waitFor } from '../helpers/wait.js';

const info = inject('cluster');
const mysql = info.server.flavor === 'mysql';
const cache = memjs.Client.create(info.memcached.replica, { logger: { log: () => undefined } });

let extra: ExtraServers;
let tls: ServerTls;
/** Replication like the shared cluster's; its replica serves TLS. */
let pair: ExtraPair;
/** A single server without a binlog (--skip-log-bin, MySQL --disable-log-bin). */
let noBinlog: ServerEndpoint;
let seq = 0;

/** The account without any grant, and one that may log in over TLS only. */
const NO_GRANTS = { user: 'nogrants', password: 'nogrants' };
const TLS_ONLY = { user: 'tlsonly', password: 'tlsonly' };

const address = (e: ServerEndpoint) => `${e.host}:${e.port}`;

interface Running {
  proc: TailerProcess;
  /** http://127.0.0.1:<status port> */
  url: string;
  get(path: string): Promise<{ code: number; body: Record<string, unknown> }>;
  stop(): Promise<number | string>;
}

const running: Running[] = [];
const stateDirs: string[] = [];

async function startTailer(server: ServerEndpoint, env: Record<string, string>): Promise<Running> {
  const port = await freePort();
  const stateDir = mkdtempSync(join(tmpdir(), 'ct-bad-input-'));
  stateDirs.push(stateDir);
  const proc = spawnTailer(info, {
    CACHETAIL_SOURCE_HOST: server.host,
    CACHETAIL_SOURCE_PORT: String(server.port),
    CACHETAIL_SOURCE_SERVER_ID: '7960',
    CACHETAIL_SOURCE_CONNECT_TIMEOUT_MS: '5000',
    CACHETAIL_SOURCE_HEARTBEAT_MS: '500',
    CACHETAIL_STATE_DIR: stateDir,
    CACHETAIL_STATUS_PORT: String(port),
    ...env,
  });
  const get = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return { code: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const r: Running = {
    proc,
    url: `http://127.0.0.1:${port}`,
    get,
    stop: async () => {
      if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGTERM');
      return proc.exited;
    },
  };
  running.push(r);
  await waitFor('the status server', () => get('/status').then(() => true), 60_000, 100).catch((e: Error) => {
    throw new Error(`${e.message}\n${proc.output()}`);
  });
  return r;
}

/** delete_hits + delete_misses of the region's memcached: every delete any client sent. */
async function deletesSent(): Promise<number> {
  const s = await memcachedStats(info.memcached.replica);
  return (s.delete_hits ?? 0) + (s.delete_misses ?? 0);
}

/** The number of connection attempts the server has seen (successful or not). */
async function connections(conn: Connection): Promise<number> {
  const [rows] = await conn.query<RowDataPacket[]>("SHOW GLOBAL STATUS LIKE 'Connections'");
  return Number(rows[0]?.Value);
}

/** How the server names this client's host in its messages (MySQL resolves 127.0.0.1 to localhost). */
async function clientHost(server: ServerEndpoint): Promise<string> {
  const conn = await connect(server, info.root);
  try {
    const [rows] = await conn.query<RowDataPacket[]>("SELECT SUBSTRING_INDEX(USER(), '@', -1) AS h");
    return String(rows[0]?.h);
  } finally {
    await conn.end();
  }
}

/** VERSION() of a server: MariaDB appends -log only while the binlog is on, so it is read, not assumed. */
async function versionOf(server: ServerEndpoint): Promise<string> {
  const conn = await connect(server, info.root);
  try {
    const [rows] = await conn.query<RowDataPacket[]>('SELECT VERSION() AS v');
    return String(rows[0]?.v);
  } finally {
    await conn.end();
  }
}

/** Caches keys as stale, then commits an annotated write for them on `writer` (the server written to). */
async function annotatedWrite(writer: Connection, prefix: string): Promise<string[]> {
  const keys = [`${prefix}:${seq++}`, `${prefix}:${seq++}`];
  for (const k of keys) await cache.set(k, 'stale', {});
  await writer.query(annotate('INSERT INTO d.t (k) VALUES (?)', keys), [keys.join(',')]);
  return keys;
}

async function cached(keys: string[]): Promise<(string | null)[]> {
  const out: (string | null)[] = [];
  for (const k of keys) out.push((await cache.get(k)).value?.toString() ?? null);
  return out;
}

/**
 * Starts a tailer that must be refused with exactly `error`, and checks everything a refusal promises:
 * /status, /readyz and /healthz; one log line and no retry; no connection after the refusal although
 * annotated writes commit (on `writeOn`, whose binlog the tailer would read); no key deleted.
 */
async function expectRefused(
  server: ServerEndpoint,
  env: Record<string, string>,
  error: { code: string; message: string },
  writeOn: ServerEndpoint,
): Promise<void> {
  const watcher = await connect(server, info.root);
  const writer = await connect(writeOn, info.root);
  const deletesBefore = await deletesSent();
  const t = await startTailer(server, env);
  try {
    const status = await waitFor(
      'the refusal',
      async () => {
        const { body } = await t.get('/status');
        return body.state === 'failed' ? body : undefined;
      },
      60_000,
      100,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n${t.proc.output()}`);
    });
    const notReady = { reason: 'failed', message: `${error.code}: ${error.message}` };
    expect(status).toMatchObject({
      state: 'failed',
      ready: false,
      refused: true,
      lastError: error,
      notReady,
    });
    expect(await t.get('/readyz')).toEqual({
      code: 503,
      body: { ready: false, state: 'failed', ...notReady },
    });
    // Alive: a restart would meet the same refusal, so the orchestrator must not restart-loop it.
    expect(await t.get('/healthz')).toEqual({ code: 200, body: { ok: true } });

    // Refused once, not retried: while writes commit, the server sees no new connection attempt
    // (the first retry of a retrying tailer would come after 1 s).
    const before = await connections(watcher);
    const keys = await annotatedWrite(writer, 'refused');
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await connections(watcher)).toBe(before);
    expect(t.proc.child.exitCode).toBeNull();
    const logLines = t.proc
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; msg: string; code?: string; err?: string });
    const errors = logLines.filter((l) => l.level >= 50).map((l) => [l.msg, l.code ?? null]);
    expect(errors).toEqual([
      ['tailer refused: fix the setup and restart it (not retried)', error.code],
      ['tailer stopped; serving status until SIGTERM', error.code],
    ]);
    expect(logLines.find((l) => l.err !== undefined && l.err !== error.message)).toBeUndefined();

    // Nothing was deleted: the keys of the write are still cached, and no delete reached memcached.
    expect(await cached(keys)).toEqual(['stale', 'stale']);
    expect(await deletesSent()).toBe(deletesBefore);
    expect(await t.stop()).toBe(0);
  } finally {
    await t.stop();
    await watcher.end();
    await writer.end();
  }
}

beforeAll(async () => {
  extra = await createExtraServers({ template: info.server.template, line: info.server.line });
  tls = serverTls(extra);
  const started = await Promise.allSettled([
    extra.startPair({ name: 'tail', replicaOptions: tls.options }),
    // MySQL 8+ also spells it --disable-log-bin (preflight.test.ts uses --skip-log-bin on every line).
    extra.startServer({
      name: 'no-binlog',
      serverId: 300,
      options: [mysql ? '--disable-log-bin' : '--skip-log-bin'],
    }),
  ]);
  const [p, s] = started.map((r) => {
    if (r.status === 'rejected') throw r.reason;
    return r.value;
  });
  pair = p as ExtraPair;
  noBinlog = s as ServerEndpoint;
  // The accounts are created on the primary and replicate, REQUIRE SSL included.
  const grants = extra.driver.tailerGrants;
  await pair.query(
    'primary',
    `CREATE USER '${NO_GRANTS.user}'@'127.0.0.1' IDENTIFIED BY '${NO_GRANTS.password}';
     CREATE USER '${TLS_ONLY.user}'@'127.0.0.1' IDENTIFIED BY '${TLS_ONLY.password}' REQUIRE SSL;
     GRANT ${grants} ON *.* TO '${TLS_ONLY.user}'@'127.0.0.1';
     CREATE DATABASE d; CREATE TABLE d.t (id INT AUTO_INCREMENT PRIMARY KEY, k VARCHAR(200)) ENGINE=InnoDB`,
  );
  await pair.waitForReplicaCatchUp();
  const conn = await connect(noBinlog, info.root);
  try {
    await conn.query(
      `CREATE USER '${info.tailerUser.user}'@'127.0.0.1' IDENTIFIED BY '${info.tailerUser.password}';
       GRANT ${grants} ON *.* TO '${info.tailerUser.user}'@'127.0.0.1';
       CREATE DATABASE d; CREATE TABLE d.t (id INT AUTO_INCREMENT PRIMARY KEY, k VARCHAR(200)) ENGINE=InnoDB`,
    );
  } finally {
    await conn.end();
  }
});

afterAll(async () => {
  for (const t of running) await t.stop().catch(() => undefined);
  cache.close();
  await extra?.stop();
  for (const d of stateDirs) rmSync(d, { recursive: true, force: true });
});

const as = (who: { user: string; password: string }) => ({
  CACHETAIL_SOURCE_USER: who.user,
  CACHETAIL_SOURCE_PASSWORD: who.password,
});

const loginFix =
  'check source.user and source.password / source.passwordFile (CACHETAIL_SOURCE_PASSWORD), and that the ' +
  'account exists for the host the tailer connects from, or enable source.ssl if the account was created ' +
  'REQUIRE SSL/X509 (the server then refuses a plain connection with this same error).';

describe('cachetail tail refuses, once, and deletes nothing', () => {
  it('a wrong password', async () => {
    const at = address(pair.replica);
    const host = await clientHost(pair.replica);
    await expectRefused(
      pair.replica,
      as({ user: pair.tailerUser.user, password: 'wrong' }),
      {
        code: 'REPLICATION_ACCESS_DENIED',
        message: `cannot connect to ${at} as cachetail: server error 1045: Access denied for user 'cachetail'@'${host}' (using password: YES). Fix: ${loginFix}`,
      },
      pair.primary,
    );
  });

  it('no password configured: the fix names CACHETAIL_SOURCE_PASSWORD (issue #17 item 5)', async () => {
    const at = address(pair.replica);
    const host = await clientHost(pair.replica);
    await expectRefused(
      pair.replica,
      // An empty variable counts as unset: no password anywhere.
      as({ user: pair.tailerUser.user, password: '' }),
      {
        code: 'REPLICATION_ACCESS_DENIED',
        message:
          `cannot connect to ${at} as cachetail: server error 1045: Access denied for user 'cachetail'@'${host}' (using password: NO). ` +
          'Fix: no password is configured (source.password is empty): set CACHETAIL_SOURCE_PASSWORD, or source.password ' +
          'or source.passwordFile in the config file, to the password of source.user "cachetail".',
      },
      pair.primary,
    );
  });

  it('an account without the replication grants', async () => {
    const at = address(pair.replica);
    // The flavors name the monitoring privileges and statements differently: MariaDB 10.5.9+ split
    // REPLICATION CLIENT into BINLOG MONITOR and SLAVE MONITOR, MySQL 8.4 kept only the new statements.
    const lacks = mysql
      ? `REPLICATION CLIENT (SHOW BINARY LOG STATUS is refused, so cachetail cannot read ${at}'s current binlog position, which it needs to start without a checkpoint and to continue after a gap; SHOW REPLICA STATUS is refused, so the preflight cannot see ${at}'s replication)`
      : `BINLOG MONITOR (SHOW MASTER STATUS is refused, so cachetail cannot read ${at}'s current binlog position, which it needs to start without a checkpoint and to continue after a gap) and SLAVE MONITOR (SHOW ALL SLAVES STATUS is refused, so the preflight cannot see ${at}'s replication)`;
    const grant = mysql
      ? 'REPLICATION SLAVE, REPLICATION CLIENT'
      : 'REPLICATION SLAVE, BINLOG MONITOR, SLAVE MONITOR';
    await expectRefused(
      pair.replica,
      as(NO_GRANTS),
      {
        code: 'PREFLIGHT_FAILED',
        message:
          `preflight refused ${at} (${await versionOf(pair.replica)}): 1 check failed\n` +
          `- [privileges] 'nogrants'@'127.0.0.1' lacks REPLICATION SLAVE on ${at}: the server refuses the binlog ` +
          `dump, so cachetail cannot read any event. It also lacks ${lacks}. Fix: GRANT ${grant} ON *.* TO ` +
          "'nogrants'@'127.0.0.1' (on the primary, so that the grant replicates).",
      },
      pair.primary,
    );
  });

  it('a server without a binlog', async () => {
    const at = address(noBinlog);
    const fix = mysql
      ? `remove skip-log-bin / disable-log-bin from ${at}'s config (MySQL 8 writes a binlog by default) and restart it.`
      : `set log_bin=mysql-bin (any base name) in ${at}'s config and restart it.`;
    await expectRefused(
      noBinlog,
      as(info.tailerUser),
      {
        code: 'PREFLIGHT_FAILED',
        message:
          `preflight refused ${at} (${await versionOf(noBinlog)}): 1 check failed\n` +
          `- [log_bin] log_bin is OFF on ${at}: it writes no binlog, so cachetail has nothing to read and no key ` +
          `would ever be deleted. Fix: ${fix}`,
      },
      noBinlog,
    );
  });

  it('an account created REQUIRE SSL, reached without TLS', async () => {
    const at = address(pair.replica);
    const host = await clientHost(pair.replica);
    await expectRefused(
      pair.replica,
      as(TLS_ONLY),
      {
        code: 'REPLICATION_ACCESS_DENIED',
        message: `cannot connect to ${at} as tlsonly: server error 1045: Access denied for user 'tlsonly'@'${host}' (using password: YES). Fix: ${loginFix}`,
      },
      pair.primary,
    );
  });

  it('TLS to a server certificate signed by a CA it was not given', async () => {
    await expectRefused(
      pair.replica,
      { ...as(TLS_ONLY), CACHETAIL_SOURCE_SSL_ENABLED: 'true' },
      {
        code: 'REPLICATION_TLS',
        message:
          `cannot connect to ${address(pair.replica)} as tlsonly: TLS: self-signed certificate in certificate chain. ` +
          'Fix: set source.ssl.caFile to the CA that signed the server certificate (MySQL: ca.pem in its datadir); ' +
          'source.ssl.verifyIdentity needs a certificate issued for source.host.',
      },
      pair.primary,
    );
  });
});

describe('cachetail tail refuses a bad config before it connects (issue #17 item 5)', () => {
  /** Runs `cachetail tail` to its exit: the exit code and everything it printed. */
  async function run(env: Record<string, string>, args: string[] = []) {
    const proc = spawnTailer(info, env, args);
    return { code: await proc.exited, output: proc.output() };
  }

  it('a memcached port out of range, and a file that is not JSON, each with its code', async () => {
    expect(await run({ CACHETAIL_MEMCACHED_SERVERS: '127.0.0.1:99999' })).toEqual({
      code: 1,
      output:
        'cachetail: invalid configuration:\n' +
        '  memcached.servers.0: expected host:port with a port 1-65535, got "127.0.0.1:99999" [CONFIG_INVALID]\n',
    });
    const dir = mkdtempSync(join(tmpdir(), 'ct-bad-input-'));
    stateDirs.push(dir);
    const file = join(dir, 'tailer.json');
    writeFileSync(file, '{\n  "source": { "password": s3cret }\n}\n');
    expect(await run({}, ['--config', file])).toEqual({
      code: 1,
      output: `cachetail: ${file}:2:27: invalid JSON: unexpected 's', expected a value [CONFIG_PARSE]\n`,
    });
  });
});

describe('cachetail tail logs in', () => {
  /** A fresh login (empty authentication cache), a ready tailer, and an annotated write it invalidates. */
  async function streams(env: Record<string, string>): Promise<void> {
    // Empties caching_sha2_password's cache on MySQL: the next login takes the full authentication.
    // LOCAL: a FLUSH is otherwise written to the replica's binlog as a transaction of its own, which on
    // MariaDB (gtid_strict_mode) stops replication at the primary's next, lower-numbered GTID.
    await pair.query('replica', 'FLUSH LOCAL PRIVILEGES');
    const t = await startTailer(pair.replica, { ...env, CACHETAIL_STATUS_MAX_LAG_SECONDS: '1' });
    try {
      await waitFor(
        'ready',
        async () => ((await t.get('/readyz')).code === 200 ? true : undefined),
        60_000,
        100,
      ).catch(async (e: Error) => {
        throw new Error(`${e.message}: ${JSON.stringify((await t.get('/status')).body)}\n${t.proc.output()}`);
      });
      const writer = await pair.connect('primary');
      let keys: string[];
      try {
        keys = await annotatedWrite(writer, 'login');
      } finally {
        await writer.end();
      }
      await waitFor(
        'the keys deleted',
        async () => ((await cached(keys)).every((v) => v === null) ? true : undefined),
        30_000,
        100,
      ).catch(async (e: Error) => {
        throw new Error(`${e.message}: ${JSON.stringify((await t.get('/status')).body)}\n${t.proc.output()}`);
      });
      await waitFor(
        'a heartbeat',
        async () => ((await t.get('/status')).body.lagSeconds === 0 ? true : undefined),
        10_000,
        100,
      );
      expect((await t.get('/status')).body).toMatchObject({
        state: 'streaming',
        ready: true,
        refused: false,
        lastError: null,
      });
      // Caught up on an idle primary: the heartbeats (every 500 ms) keep the lag at 0 in /status and in
      // the gauge alike, so a lag bound of 1 s (CACHETAIL_STATUS_MAX_LAG_SECONDS) never trips /readyz.
      // (Right after an event the lag is its age from the header's whole second, up to ~1 s more than
      // the truth, until the next heartbeat says there is nothing more to read.)
      const polls: [unknown, number, string | undefined][] = [];
      for (let i = 0; i < 12; i++) {
        const status = (await t.get('/status')).body;
        const ready = (await t.get('/readyz')).code;
        const text = await (await fetch(`${t.url}/metrics`)).text();
        polls.push([status.lagSeconds, ready, /^cachetail_replication_lag_seconds (\S+)$/m.exec(text)?.[1]]);
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(polls).toEqual(Array.from({ length: 12 }, () => [0, 200, '0']));
      expect(await t.stop()).toBe(0);
    } finally {
      await t.stop();
    }
  }

  it('over TLS with the account created REQUIRE SSL, trusting the server CA', async () => {
    await streams({
      ...as(TLS_ONLY),
      CACHETAIL_SOURCE_SSL_ENABLED: 'true',
      CACHETAIL_SOURCE_SSL_CA_FILE: tls.caFile(pair.replica),
    });
  });

  it('without TLS after FLUSH PRIVILEGES (MySQL: caching_sha2_password full authentication via the RSA key)', async () => {
    await streams(as(pair.tailerUser));
  });
});
