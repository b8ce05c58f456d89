/**
 * `cachetail replay` on a real server: annotated transactions written on the shared cluster's primary,
 * then a GTID range of them replayed over the wire from the replica into two real memcached servers
 * (through the tailer's sink, built from a tailer config file) — exactly the range's keys are deleted,
 * the ones before and after stay — and the same range read from the replica's binlog files with
 * --dry-run prints exactly those keys, after one comment per transaction naming its GTID.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import memjs from 'memjs';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { annotate } from '../../src/annotate/index.js';
import { lastWriteGtid, trackWriteGtids } from '../../src/app/index.js';
import { replayCommand } from '../../src/commands/replay.js';
import { clusterControl } from '../../src/devcluster/index.js';
import { presentKeys, startTestServers, type TestServers } from './memcached-support.js';

const info = inject('cluster');
const cluster = clusterControl(info);
const DB = 'replaycmd';

let ts: TestServers;
let tier: memjs.Client;
let stateDir: string;
let configFile: string;
/** The replica's binlog file before the writes: the dry run reads from it on. */
let firstFile: string;
/** Per transaction written: its GTID and keys, in commit order. */
const written: { gtid: string; keys: string[] }[] = [];

async function run(args: string[]): Promise<{ code: number; lines: string[]; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const code = await replayCommand(args, { stdout, stderr, env: {} });
  const text = Buffer.concat(out).toString('utf8');
  return { code, lines: text.replace(/\n$/, '').split('\n'), stderr: Buffer.concat(err).toString('utf8') };
}

beforeAll(async () => {
  ts = await startTestServers(2);
  // The app's client: memjs over both servers, routing as the sink's default hashing (memjs) does.
  tier = memjs.Client.create(ts.servers.map((s) => s.address).join(','), {
    retries: 0,
    timeout: 2,
    logger: { log: () => undefined },
  });
  stateDir = await mkdtemp(path.join(info.baseDir, 'replay-'));
  configFile = path.join(stateDir, 'config.json');
  const config = {
    source: {
      host: info.replica.host,
      port: info.replica.port,
      user: info.tailerUser.user,
      password: info.tailerUser.password,
      serverId: 7_960,
    },
    memcached: { servers: ts.servers.map((s) => s.address) },
    stateDir,
  };
  await writeFile(configFile, JSON.stringify(config));
  await cluster.query(
    'primary',
    `CREATE DATABASE IF NOT EXISTS ${DB};
     CREATE TABLE IF NOT EXISTS ${DB}.t (id INT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB;`,
  );
  await cluster.waitForReplicaCatchUp();
  const [status] = await cluster.query<RowDataPacket[]>('replica', cluster.driver.sql.binlogStatus);
  firstFile = String(status?.File);
  const conn = await cluster.connect('primary');
  try {
    await trackWriteGtids(conn);
    for (let id = 1; id <= 5; id++) {
      const keys = [`replay:${id}:a`, `replay:${id}:b`];
      const [result] = await conn.query(annotate(`INSERT INTO ${DB}.t VALUES (?, 1)`, keys), [id]);
      written.push({ gtid: await lastWriteGtid(conn, result), keys });
    }
  } finally {
    await conn.end();
  }
  await cluster.waitForReplicaCatchUp();
});

afterAll(async () => {
  tier?.close();
  await ts?.stop();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

const allKeys = () => written.flatMap((w) => w.keys);

describe('cachetail replay on a real replica', () => {
  it('replays a GTID range over the wire: exactly its keys are deleted', { timeout: 30_000 }, async () => {
    await Promise.all(allKeys().map((k) => tier.set(k, 'cached', {})));
    expect(await presentKeys(tier, allKeys())).toEqual(allKeys());
    const r = await run(['--config', configFile, '--from', written[1].gtid, '--to', written[3].gtid]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await presentKeys(tier, allKeys())).toEqual([...written[0].keys, ...written[4].keys]);
    // Only this test's keys were ever set on these servers: 6 deleted is exactly them. Other
    // transactions of the replica's binlog that a GTID bound does not limit (another domain or UUID,
    // e.g. written on the replica by other test files) may name keys: those count as not found.
    const summary = r.lines.at(-1) ?? '';
    expect(summary).toMatch(/ deleted 6 not_found \d+ journaled 0 first /);
  });

  it('the same range from the replica binlog files with --dry-run prints exactly those keys', async () => {
    const dir = path.join(info.baseDir, 'replica', 'data');
    const logs = await cluster.query<RowDataPacket[]>('replica', 'SHOW BINARY LOGS');
    const names = logs.map((row) => String(row.Log_name));
    const files = names.slice(names.indexOf(firstFile)).flatMap((name) => ['--file', path.join(dir, name)]);
    const r = await run(['--dry-run', '--from', written[1].gtid, '--to', written[3].gtid, ...files]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const body = r.lines.filter((l) => !l.startsWith('# summary'));
    expect(body.filter((l) => !l.startsWith('#'))).toEqual(written.slice(1, 4).flatMap((w) => w.keys));
    expect(body.filter((l) => l.startsWith('#')).map((l) => l.split(' ')[1])).toEqual(
      written.slice(1, 4).map((w) => w.gtid),
    );
  });
});
