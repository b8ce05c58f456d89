/**
 * A Kafka outage on the real pair (every server line) and broker. The broker is SIGKILLed (by PID)
 * mid-stream and kept down for 30 s while annotated writes continue: the memcached tailer keeps deleting
 * in the replica region the whole time, the Kafka tailer holds its checkpoint and (its queue full) pauses
 * its reading. After the broker restarts on the same port with the same data, every invalidation is on
 * the topic: 0 missing; duplicates are counted and reported.
 */
import { readFile } from 'node:fs/promises';
import memjs from 'memjs';
import type { Connection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { clusterControl, ensureKafka } from '../../src/devcluster/index.js';
import { killKafka, restartKafka } from '../../src/devcluster/kafka.js';
import { createLogger } from '../../src/observability/logger.js';
import type { KafkaSink } from '../../src/sinks/kafka/sink.js';
import { createKafkaTailer } from '../../src/wiring/kafka-tailer.js';
import type { Tailer } from '../../src/tailer/tailer.js';
import { RecordingSink } from '../helpers/recording-sink.js';
import { startTailer } from '../helpers/tailer.js';
import { sameGtids } from '../helpers/gtid.js';
import { waitFor } from '../helpers/wait.js';
import {
  CREATE_TABLE,
  createTopics,
  gtidsPerKey,
  kafkaTailerConfig,
  TopicReader,
  uniqueTopic,
  writeTransaction,
  type Written,
} from './kafka-support.js';

const OUTAGE_MS = 30_000;
const info = inject('cluster');
const cluster = clusterControl(info);
const log = createLogger(process.env.CACHETAIL_TEST_LOG ?? 'silent');
const regionCache = memjs.Client.create(info.memcached.replica, { logger: { log: () => undefined } });

/** The GTID state of a checkpoint file's text ('' while there is none or it is being replaced). */
function checkpointGtid(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { gtid?: string }).gtid;
  } catch {
    return undefined;
  }
}

async function cached(key: string): Promise<boolean> {
  return (await regionCache.get(key)).value !== null;
}

describe('a 30 s Kafka outage', () => {
  const topic = uniqueTopic('outage');
  let brokers: string[] = [];
  let kafkaTailer: { tailer: Tailer; sink: KafkaSink; checkpointPath: string };
  let memcachedTailer: Awaited<ReturnType<typeof startTailer<RecordingSink>>>;
  let conn: Connection;
  let brokerDown = false;

  beforeAll(async () => {
    brokers = (await ensureKafka(info)).brokers;
    await cluster.query('primary', CREATE_TABLE);
    await cluster.waitForReplicaCatchUp();
    await createTopics(brokers, topic, 3);
    // A small queue, so the outage fills it and backpressure pauses the Kafka tailer's reading.
    const config = await kafkaTailerConfig(info, { serverId: 7_611, brokers, topic, maxPending: 20 });
    kafkaTailer = createKafkaTailer(config, log);
    await kafkaTailer.tailer.start();
    memcachedTailer = await startTailer(info, (inner) => new RecordingSink(inner));
    conn = await cluster.connect('primary');
  });
  afterAll(async () => {
    // Whatever happened, later test files find the shared broker running.
    if (brokerDown) await restartKafka(info);
    await conn?.end();
    await kafkaTailer?.tailer.stop();
    await kafkaTailer?.sink.close();
    await memcachedTailer?.stop();
    regionCache.close();
  });

  it('memcached deletes continue during the outage; afterwards every invalidation is on the topic', async () => {
    const written: Written[] = [];
    let n = 0;
    const write = async (): Promise<Written> => {
      const i = n++;
      const keys = [`outage:hot:${i % 7}`, `outage:row:${i}`];
      for (const k of keys) await regionCache.set(k, 'stale', { expires: 600 });
      const w = await writeTransaction(conn, [keys]);
      written.push(w);
      return w;
    };
    const deletedInRegion = (w: Written) =>
      waitFor(`memcached deletes of ${w.gtid}`, async () =>
        memcachedTailer.sink.transactions.some((t) => t.gtid === w.gtid) &&
        !(await cached(w.keys[0])) &&
        !(await cached(w.keys[1]))
          ? true
          : undefined,
      );

    // Before: both tailers keep up.
    for (let i = 0; i < 10; i++) await write();
    await deletedInRegion(written.at(-1)!);
    await waitFor('the Kafka tailer to publish the first writes', () =>
      kafkaTailer.tailer.acknowledged?.gtid?.hasReached(written.at(-1)!.gtid) ? true : undefined,
    );

    // Nothing else writes: the checkpoint then holds exactly the primary's GTIDs (MariaDB: the last
    // write's GTID; MySQL: the set that ends with it).
    const stateBefore = await cluster.gtidState('primary');
    const checkpointBefore = await waitFor('the Kafka checkpoint to cover the first writes', async () => {
      const text = await readFile(kafkaTailer.checkpointPath, 'utf8').catch(() => '');
      return sameGtids(checkpointGtid(text), stateBefore) ? text : undefined;
    });
    await killKafka(info);
    brokerDown = true;
    const downAt = Date.now();

    // During: a write every ~300 ms, each one deleted from the replica region while the broker is down.
    const duringLatencies: number[] = [];
    let maxPending = 0;
    let paused = false;
    while (Date.now() - downAt < OUTAGE_MS) {
      const t0 = Date.now();
      await deletedInRegion(await write());
      duringLatencies.push(Date.now() - t0);
      maxPending = Math.max(maxPending, kafkaTailer.tailer.pendingTransactions);
      paused ||= kafkaTailer.tailer.readingPaused;
      await new Promise((r) => setTimeout(r, 300));
    }
    const duringCount = duringLatencies.length;
    // Still down: the Kafka tailer has not acknowledged (nor checkpointed) anything written meanwhile.
    expect(await readFile(kafkaTailer.checkpointPath, 'utf8')).toBe(checkpointBefore);
    expect(kafkaTailer.sink.stats.failing).not.toBeNull();
    // Not failed: waiting for Kafka (a liveness reconnect may be in progress at this instant).
    expect(['streaming', 'connecting']).toContain(kafkaTailer.tailer.state);

    await restartKafka(info);
    brokerDown = false;
    const upAt = Date.now();
    for (let i = 0; i < 10; i++) await write();

    const reader = await TopicReader.start(brokers, topic);
    try {
      const ids = written.flatMap((w) => w.ids);
      await reader.waitForIds(ids, `all ${ids.length} invalidations after the outage`, 120_000);
      const caughtUpMs = Date.now() - upAt;
      const got = reader.records.map((r) => r.inv.eventId);
      const counts = new Map<string, number>();
      for (const id of got) counts.set(id, (counts.get(id) ?? 0) + 1);
      const missing = ids.filter((id) => !counts.has(id));
      const duplicates = got.length - counts.size;
      const unexpected = [...counts.keys()].filter((id) => !ids.includes(id));
      const sorted = [...duringLatencies].sort((a, b) => a - b);
      console.log(
        `kafka outage: ${OUTAGE_MS / 1000} s down, ${written.length} transactions / ${ids.length} invalidations ` +
          `written (${duringCount} during the outage, each deleted from memcached meanwhile: p50 ` +
          `${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted.at(-1)} ms); Kafka tailer: ` +
          `${kafkaTailer.sink.stats.failedSends} failed sends, max ${maxPending} pending, reading paused: ${paused}, ` +
          `${kafkaTailer.tailer.stats.reconnects} replication reconnects; after restart: all on the topic in ` +
          `${caughtUpMs} ms — missing ${missing.length}, duplicates ${duplicates}, unexpected ${unexpected.length}`,
      );
      expect(missing).toEqual([]);
      expect(unexpected).toEqual([]);
      expect(duringCount).toBeGreaterThanOrEqual(20);
      expect(paused).toBe(true);
      // Per-key commit order holds across the outage (first occurrence of each event id).
      const expected = new Map<string, string[]>();
      for (const w of written) for (const k of w.keys) expected.set(k, [...(expected.get(k) ?? []), w.gtid]);
      expect(gtidsPerKey(reader.records)).toEqual(expected);
    } finally {
      await reader.stop();
    }
  }, 240_000);

  it('a Kafka tailer stopped during an outage resumes from its own checkpoint: nothing skipped', async () => {
    const topic2 = uniqueTopic('resume');
    await createTopics(brokers, topic2, 3);
    const config = await kafkaTailerConfig(info, { serverId: 7_613, brokers, topic: topic2 });
    const first = createKafkaTailer(config, log);
    await first.tailer.start();
    const written: Written[] = [];
    const write = async (i: number) =>
      written.push(await writeTransaction(conn, [[`resume:${i % 3}`, `resume:row:${i}`]]));
    for (let i = 0; i < 5; i++) await write(i);
    const stateBefore = await cluster.gtidState('primary');
    await waitFor('the checkpoint to cover the first writes', async () =>
      sameGtids(checkpointGtid(await readFile(first.checkpointPath, 'utf8').catch(() => '')), stateBefore)
        ? true
        : undefined,
    );

    await killKafka(info);
    brokerDown = true;
    for (let i = 5; i < 15; i++) await write(i);
    await waitFor('the Kafka tailer to read the writes made during the outage', () =>
      first.tailer.readPosition?.gtid?.hasReached(written.at(-1)!.gtid) ? true : undefined,
    );
    // Stopped with those ten undelivered: abandoned, not checkpointed.
    await first.tailer.stop(500);
    await first.sink.close();
    const checkpoint = JSON.parse(await readFile(first.checkpointPath, 'utf8')) as { gtid: string };
    expect(checkpoint.gtid).toSatisfy((g: string) => sameGtids(g, stateBefore));

    await restartKafka(info);
    brokerDown = false;
    const second = createKafkaTailer(config, log);
    await second.tailer.start();
    for (let i = 15; i < 20; i++) await write(i);
    const reader = await TopicReader.start(brokers, topic2);
    try {
      const ids = written.flatMap((w) => w.ids);
      await reader.waitForIds(ids, `all ${ids.length} invalidations after the restart`, 60_000);
      const got = reader.records.map((r) => r.inv.eventId);
      const distinct = new Set(got);
      const missing = ids.filter((id) => !distinct.has(id));
      console.log(
        `kafka tailer restarted during an outage: ${ids.length} invalidations, missing ${missing.length}, ` +
          `duplicates ${got.length - distinct.size}`,
      );
      expect(missing).toEqual([]);
      expect([...distinct].sort()).toEqual([...ids].sort());
    } finally {
      await reader.stop();
      await second.tailer.stop();
      await second.sink.close();
    }
  }, 120_000);
});
