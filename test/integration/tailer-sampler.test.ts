/**
 * The consistency sampler inside a real `cachetail tail` process (config `consistency`), against the
 * shared MariaDB pair and the replica region's memcached: truth from a configured SQL query per key
 * template, run as its own SELECT-only user; every covered key checked at 400 ms and 1.5 s after its
 * delete was acknowledged. Ten keys are re-filled with the new value (consistent), one is put back with
 * the old value after its delete (a stale set): /status, /metrics and the violation log say exactly that.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import memjs from 'memjs';
import type { Connection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { annotate } from '../../src/annotate/index.js';
import { encodeEnvelope } from '../../src/app/index.js';
import { lastWriteGtid, trackWriteGtids } from '../../src/app/gtid.js';
import { clusterControl } from '../../src/devcluster/index.js';
import { freePort } from '../../src/devcluster/proc.js';
import type { ConsistencyReport } from '../../src/sampler/index.js';
import { spawnTailer, type TailerProcess } from '../helpers/tailer-process.js';
import { waitFor } from '../helpers/wait.js';

const info = inject('cluster');
const cluster = clusterControl(info);
const cache = memjs.Client.create(info.memcached.replica, { logger: { log: () => undefined } });
const DB = 'sampler_it';
const key = (id: number) => `sampler-it:name:${id}`;
const other = (id: number) => `sampler-it:other:${id}`;
const envelope = (v: string) => encodeEnvelope('json', v)!;

describe('the consistency sampler in cachetail tail', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cachetail-sampler-'));
  let proc: TailerProcess;
  let port = 0;
  let conn: Connection;

  beforeAll(async () => {
    await cluster.query(
      'primary',
      `DROP DATABASE IF EXISTS ${DB}; CREATE DATABASE ${DB};
       CREATE TABLE ${DB}.names (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL);
       INSERT INTO ${DB}.names VALUES ${Array.from({ length: 12 }, (_, i) => `(${i + 1}, 'a0')`).join(',')};
       CREATE USER IF NOT EXISTS 'ct_truth'@'127.0.0.1' IDENTIFIED BY 'truth-pw';
       GRANT SELECT ON ${DB}.* TO 'ct_truth'@'127.0.0.1'`,
    );
    await cluster.waitForReplicaCatchUp();
    port = await freePort();
    const config = join(dir, 'tailer.json');
    writeFileSync(
      config,
      JSON.stringify({
        consistency: {
          enabled: true,
          every: 1,
          delaysMs: [400, 1500],
          truth: {
            user: 'ct_truth',
            queries: [{ key: 'sampler-it:name:{id}', sql: `SELECT name FROM ${DB}.names WHERE id = ?` }],
          },
        },
      }),
    );
    proc = spawnTailer(
      info,
      {
        CACHETAIL_SOURCE_SERVER_ID: '7960',
        CACHETAIL_STATE_DIR: join(dir, 'state'),
        CACHETAIL_STATUS_PORT: String(port),
        // The secret from the environment, never from the file.
        CACHETAIL_CONSISTENCY_TRUTH_PASSWORD: 'truth-pw',
      },
      ['--config', config],
    );
    await waitFor(
      'the tailer to be ready',
      async () => ((await status().catch(() => null))?.ready ? true : undefined),
      60_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${proc.output()}`);
    });
    conn = await cluster.connect('primary');
    await trackWriteGtids(conn);
  }, 90_000);

  afterAll(async () => {
    proc?.child.kill('SIGTERM');
    await proc?.exited;
    await conn?.end();
    cache.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function status(): Promise<{
    ready: boolean;
    consistency?: ConsistencyReport & { ignored: number };
  }> {
    const res = await fetch(`http://127.0.0.1:${port}/status`);
    return (await res.json()) as { ready: boolean; consistency?: ConsistencyReport & { ignored: number } };
  }

  /** Writes the new name, waits for the tailer's delete, then fills the cache with `fill`. */
  async function write(id: number, fill: string): Promise<string> {
    await cache.set(key(id), envelope('a0'), { expires: 600 });
    const [result] = await conn.query(
      annotate(`UPDATE ${DB}.names SET name = ? WHERE id = ?`, [key(id), other(id)]),
      [`b${id}`, id],
    );
    const gtid = await lastWriteGtid(conn, result);
    expect(gtid).not.toBe('');
    await waitFor(`the delete of ${key(id)}`, async () =>
      (await cache.get(key(id))).value === null ? true : undefined,
    );
    await cache.set(key(id), envelope(fill), { expires: 600 });
    return gtid;
  }

  it('reports exact per-delay figures and logs the stale key with its GTID', async () => {
    for (let id = 1; id <= 10; id++) await write(id, `b${id}`);
    // The stale set: the old value put back after the delete (what hold-off mode prevents).
    const staleGtid = await write(11, 'a0');

    const report = await waitFor('every check to run', async () => {
      const c = (await status()).consistency;
      return c && c.delays.every((d) => d.checks === 11) ? c : undefined;
    }).catch(async (err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify((await status()).consistency)}\n${proc.output()}`);
    });
    expect(report).toEqual({
      every: 1,
      keysSeen: 11,
      sampled: 11,
      skipped: 0,
      pending: 0,
      ignored: 11,
      delays: [
        {
          delayMs: 400,
          checks: 11,
          consistent: 10,
          stale: 1,
          errors: 0,
          within: { consistent: 10, stale: 1, errors: 0 },
          fraction: 10 / 11,
        },
        {
          delayMs: 1500,
          checks: 11,
          consistent: 10,
          stale: 1,
          errors: 0,
          within: { consistent: 10, stale: 1, errors: 0 },
          fraction: 10 / 11,
        },
      ],
    });

    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (const delay of ['400ms', '1500ms']) {
      expect(metrics).toContain(
        `cachetail_consistency_checks_total{delay="${delay}",result="consistent"} 10`,
      );
      expect(metrics).toContain(`cachetail_consistency_checks_total{delay="${delay}",result="stale"} 1`);
      expect(metrics).toContain(`cachetail_consistency_checks_total{delay="${delay}",result="error"} 0`);
    }
    expect(metrics).toContain('cachetail_consistency_samples_total{outcome="sampled"} 11');

    const violations = proc
      .output()
      .split('\n')
      .filter((l) => l.includes('consistency violation'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(violations.map((v) => [v.key, v.gtid, v.delayMs, v.cache, v.truth])).toEqual([
      [key(11), staleGtid, 400, '"a0"', ['"b11"', '"b11"']],
      [key(11), staleGtid, 1500, '"a0"', ['"b11"', '"b11"']],
    ]);
    // The truth password never reaches the log.
    expect(proc.output()).not.toContain('truth-pw');
  }, 60_000);
});
