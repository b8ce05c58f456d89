/**
 * The whole path with a memcached server down: annotated writes on the primary, the real tailer on the
 * replica, the sink over three real memcached servers, one of them killed. The tailer's acknowledged
 * position keeps moving (the down server's keys are journaled durably, so nothing waits on it), the
 * other servers get their deletes, and when the server returns (empty, on its port) it is sent exactly the
 * journaled keys, in commit order; transactions after that reach it directly.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { annotate } from '../../src/annotate/index.js';
import { clusterControl } from '../../src/devcluster/index.js';
import { killMemcached, restartMemcached } from '../../src/devcluster/memcached.js';
import { ReplicationConnection } from '../../src/replication/client.js';
import { MemcachedSink } from '../../src/sinks/memcached/sink.js';
import { annotationExtractor } from '../../src/tailer/extract.js';
import { Tailer } from '../../src/tailer/tailer.js';
import { waitFor } from '../helpers/wait.js';
import {
  deletesInLog,
  logSize,
  presentKeys,
  setAll,
  startTestServers,
  testLogger,
  unique,
  type TestServers,
} from './memcached-support.js';

const info = inject('cluster');
const cluster = clusterControl(info);
const DB = 'mcdown';
const require = createRequire(import.meta.url);
const memjsUtils = require('memjs/lib/memjs/utils') as { hashCode(s: string): number };
const ownerOf = (key: string) => memjsUtils.hashCode(key) % 3;

let ts: TestServers;
let journalDir: string;
let sink: MemcachedSink;
let tailer: Tailer;

beforeAll(async () => {
  ts = await startTestServers(3, { verbose: true });
  journalDir = await mkdtemp(join(tmpdir(), 'cachetail-tailer-mc-'));
  await cluster.query(
    'primary',
    `CREATE DATABASE IF NOT EXISTS ${DB};
     CREATE TABLE IF NOT EXISTS ${DB}.t (id INT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB;`,
  );
  await cluster.waitForReplicaCatchUp();
  const log = testLogger();
  sink = new MemcachedSink({
    servers: ts.servers.map((s) => s.address),
    timeoutMs: 500,
    attemptsBeforeDown: 3,
    backoff: { initialMs: 50, maxMs: 200 },
    probeBackoff: { initialMs: 100, maxMs: 500 },
    journalDir,
    log,
  });
  tailer = new Tailer({
    source: {
      host: info.replica.host,
      port: info.replica.port,
      user: info.tailerUser.user,
      password: info.tailerUser.password,
      serverId: 7_950,
      connectTimeoutMs: 5_000,
      heartbeatMs: 1_000,
    },
    start: { kind: 'current' },
    sink,
    extract: annotationExtractor(log),
    log,
    connect: (source) => ReplicationConnection.open(source),
    maxBatchKeys: 1_000,
    maxPendingTransactions: 1_000,
  });
  await tailer.start();
});

afterAll(async () => {
  await tailer?.stop();
  await sink?.close();
  await ts?.stop();
  await rm(journalDir, { recursive: true, force: true });
});

/** One annotated transaction per id, each naming two keys; returns the keys in commit order. */
async function write(prefix: string, ids: number[]): Promise<string[]> {
  const keys: string[] = [];
  for (const id of ids) {
    const k = [`${prefix}:${id}:a`, `${prefix}:${id}:b`];
    keys.push(...k);
    await cluster.query(
      'primary',
      annotate(`INSERT INTO ${DB}.t VALUES (?, 1) ON DUPLICATE KEY UPDATE v = v + 1`, k),
      [id],
    );
  }
  return keys;
}

const delivered = () => sink.stats.deleted + sink.stats.notFound + sink.stats.journaled;

describe('tailer → sink with a memcached server down', () => {
  it(
    'acknowledges past the down server by journaling; replays exactly its keys when it returns',
    { timeout: 90_000 },
    async () => {
      const b = ts.servers[1];
      await killMemcached(b, 'SIGKILL');
      const ids = Array.from({ length: 40 }, (_, i) => i + 1);
      // The keys of servers 0 and 2 are cached before the writes; they must be gone afterwards.
      const expectedKeys = ids.flatMap((id) => [`down:${id}:a`, `down:${id}:b`]);
      await Promise.all(
        [0, 2].map((n) =>
          setAll(
            ts.direct[n],
            expectedKeys.filter((k) => ownerOf(k) === n),
          ),
        ),
      );

      const before = delivered();
      const keys = await write('down', ids);
      expect(keys).toEqual(expectedKeys);
      await waitFor(
        'all 80 keys acknowledged or journaled',
        () => (delivered() - before >= 80 ? true : undefined),
        30_000,
      );
      // The tailer's acknowledged position reached the end of what it read: nothing waits for server 1.
      await waitFor('acknowledged = read position', () =>
        tailer.acknowledged?.nextPosition === tailer.readPosition?.nextPosition ? true : undefined,
      );
      expect(await presentKeys(ts.direct[0], keys)).toEqual([]);
      expect(await presentKeys(ts.direct[2], keys)).toEqual([]);
      const onB = keys.filter((k) => ownerOf(k) === 1);
      expect(sink.stats).toMatchObject({ journaled: onB.length, serversDown: 1 });

      const restarted = await restartMemcached(b, {
        baseDir: ts.baseDir,
        name: 'mc1-restarted',
        verbose: true,
      });
      ts.servers.push(restarted);
      await waitFor(
        'server 1 back',
        () => (sink.serverStatus()[1]?.state === 'up' ? true : undefined),
        15_000,
      );
      expect(await deletesInLog(restarted)).toEqual(unique(onB));
      expect(sink.stats.replayed).toBe(onB.length);

      const from = await logSize(restarted);
      const later = await write('up', [101, 102, 103, 104, 105, 106]);
      const laterOnB = later.filter((k) => ownerOf(k) === 1);
      expect(laterOnB.length).toBe(4);
      await waitFor('later keys delivered', async () =>
        (await deletesInLog(restarted, from)).length >= laterOnB.length ? true : undefined,
      );
      expect(await deletesInLog(restarted, from)).toEqual(laterOnB);
      expect(sink.stats.journaled).toBe(onB.length);
    },
  );
});
