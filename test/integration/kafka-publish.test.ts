/**
 * The Kafka tailer on the real pair (every server line) and broker: annotated transactions on the primary
 * appear on the topic — decoded with the generated types, one record per key, in per-key commit order,
 * with the GTIDs the primary reported (lastWriteGtid) — and the memcached tailer's watermark is published as
 * InvalidationApplied. `cachetail kafka init` creates the topics, is idempotent, and reports a topic
 * that differs; a producer never creates a topic.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import { Kafka, logLevel } from 'kafkajs';
import type { Connection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { GtidState } from '../../src/binlog/index.js';
import { kafkaCommand } from '../../src/commands/kafka.js';
import { clusterControl, ensureKafka } from '../../src/devcluster/index.js';
import { Flavor } from '../../src/gen/cachetail/v1/invalidation_pb.js';
import { createLogger } from '../../src/observability/logger.js';
import { decodeApplied } from '../../src/sinks/kafka/messages.js';
import type { KafkaSink } from '../../src/sinks/kafka/sink.js';
import { createAppliedPublisher, createKafkaTailer } from '../../src/wiring/kafka-tailer.js';
import { tailerStatus } from '../../src/tailer/status.js';
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

const info = inject('cluster');
const cluster = clusterControl(info);
const log = createLogger(process.env.CACHETAIL_TEST_LOG ?? 'silent');
let brokers: string[] = [];

beforeAll(async () => {
  brokers = (await ensureKafka(info)).brokers;
  await cluster.query('primary', CREATE_TABLE);
  await cluster.waitForReplicaCatchUp();
});

function io(env: Record<string, string>) {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    io: {
      stdout: { write: (s: string) => (out.stdout += s) },
      stderr: { write: (s: string) => (out.stderr += s) },
      env,
    },
  };
}

describe('cachetail kafka init', () => {
  it('creates both topics with the stated settings, then finds them as stated; reports one that differs', async () => {
    const topic = uniqueTopic('init');
    const env = {
      CACHETAIL_KAFKA_BROKERS: brokers.join(','),
      CACHETAIL_KAFKA_TOPIC: topic,
      CACHETAIL_KAFKA_APPLIED_TOPIC: `${topic}-applied`,
    };
    const file = `${info.baseDir}/kafka-init.json`;
    const { writeFile } = await import('node:fs/promises');
    await writeFile(
      file,
      JSON.stringify({
        source: { user: 'ignored-by-kafka-init' },
        kafka: {
          topics: { partitions: 4, replicationFactor: 1, minInsyncReplicas: 1, retentionMs: 86_400_000 },
        },
      }),
    );
    const first = io(env);
    expect(await kafkaCommand(['init', '--config', file], first.io)).toBe(0);
    expect(first.out.stdout).toBe(
      `created ${topic}: partitions=4 replication.factor=1 cleanup.policy=delete retention.ms=86400000 ` +
        `min.insync.replicas=1 unclean.leader.election.enable=false\n` +
        `created ${topic}-applied: partitions=1 replication.factor=1 cleanup.policy=compact ` +
        `min.insync.replicas=1 unclean.leader.election.enable=false\n`,
    );
    const again = io(env);
    expect(await kafkaCommand(['init', '--config', file], again.io)).toBe(0);
    expect(
      again.out.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.slice(0, l.indexOf(':'))),
    ).toEqual([`exists  ${topic}`, `exists  ${topic}-applied`]);
    expect(again.out.stdout).not.toContain('differs');

    await writeFile(
      file,
      JSON.stringify({
        kafka: {
          topics: { partitions: 8, replicationFactor: 1, minInsyncReplicas: 1, retentionMs: 86_400_000 },
        },
      }),
    );
    const differs = io(env);
    expect(await kafkaCommand(['init', '--config', file], differs.io)).toBe(1);
    expect(differs.out.stdout).toContain(
      `exists  ${topic}: differs from the stated settings (left unchanged):\n          - partitions is 4, stated 8\n`,
    );
  });

  it('runs as `cachetail kafka init` (a real process, env config)', async () => {
    const topic = uniqueTopic('init-cli');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'kafka', 'init', '--json'], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      env: {
        ...process.env,
        CACHETAIL_KAFKA_BROKERS: brokers.join(','),
        CACHETAIL_KAFKA_TOPIC: topic,
        CACHETAIL_KAFKA_APPLIED_TOPIC: `${topic}-applied`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    // Default settings want 3 replicas; a single broker refuses, which init reports as it is.
    const parsed = JSON.parse(stdout) as { error?: { code: string; message: string } };
    expect([code, parsed.error?.code]).toEqual([2, 'KAFKA_REFUSED']);
    expect(parsed.error?.message).toBe(
      `Topic creation errors: ${topic}: Replication-factor is invalid (INVALID_REPLICATION_FACTOR)`,
    );
  });

  it('exit 2 with a clear message when no broker answers', async () => {
    const r = io({ CACHETAIL_KAFKA_BROKERS: '127.0.0.1:1', CACHETAIL_KAFKA_CONNECT_TIMEOUT_MS: '200' });
    expect(await kafkaCommand(['init'], r.io)).toBe(2);
    expect(r.out.stderr).toMatch(/^cachetail kafka: .*\[KAFKA_UNAVAILABLE\]\n$/);
  });
});

describe('the Kafka tailer', () => {
  const topic = uniqueTopic('publish');
  let kafkaTailer: { tailer: Tailer; sink: KafkaSink; checkpointPath: string };
  let memcachedTailer: Awaited<ReturnType<typeof startTailer<RecordingSink>>>;
  let reader: TopicReader;
  let conn: Connection;
  const written: Written[] = [];

  beforeAll(async () => {
    await createTopics(brokers, topic, 3);
    const config = await kafkaTailerConfig(info, { serverId: 7_601, brokers, topic });
    kafkaTailer = createKafkaTailer(config, log);
    await kafkaTailer.tailer.start();
    memcachedTailer = await startTailer(info, (inner) => new RecordingSink(inner));
    reader = await TopicReader.start(brokers, topic);
    conn = await cluster.connect('primary');
  });
  afterAll(async () => {
    await conn?.end();
    await reader?.stop();
    await kafkaTailer?.tailer.stop();
    await kafkaTailer?.sink.close();
    await memcachedTailer?.stop();
  });

  it('publishes every key of every annotated transaction with its GTID, in per-key commit order', async () => {
    const ts = Date.now();
    for (let i = 0; i < 40; i++) {
      // Five hot keys recur across transactions (per-key order), each transaction also has its own key.
      written.push(await writeTransaction(conn, [[`hot:${i % 5}`, `row:${i}`]], i === 0 ? ts : undefined));
    }
    // A transaction of three statements: one GTID, keys in order of first appearance, de-duplicated.
    written.push(await writeTransaction(conn, [['hot:0'], ['multi:a', 'hot:0'], ['multi:b']]));
    const ids = written.flatMap((w) => w.ids);
    await reader.waitForIds(ids, `${ids.length} invalidations on ${topic}`);
    // Every record exactly once (no outage, no retry), nothing that was not written.
    expect(reader.records.map((r) => r.inv.eventId).sort()).toEqual([...ids].sort());

    const byId = new Map(reader.records.map((r) => [r.inv.eventId, r]));
    for (const w of written) {
      w.keys.forEach((key, i) => {
        const r = byId.get(`gtid:${w.gtid}#${i}`);
        expect([r?.key, r?.inv.key, r?.inv.gtid, r?.inv.keyIndex, r?.inv.keyCount]).toEqual([
          key,
          key,
          w.gtid,
          i,
          w.keys.length,
        ]);
      });
    }
    expect(written.at(-1)?.keys).toEqual(['hot:0', 'multi:a', 'multi:b']);

    // Per-key order: each key's records, in partition order, carry its transactions' GTIDs in commit order.
    const expected = new Map<string, string[]>();
    for (const w of written) for (const k of w.keys) expected.set(k, [...(expected.get(k) ?? []), w.gtid]);
    expect(gtidsPerKey(reader.records)).toEqual(expected);
    // One key, one partition.
    for (const key of expected.keys()) {
      expect(new Set(reader.records.filter((r) => r.key === key).map((r) => r.partition)).size).toBe(1);
    }

    const first = byId.get(`gtid:${written[0]?.gtid}#0`);
    expect(first?.headers).toEqual({
      'content-type': 'application/x-protobuf; messageType=cachetail.v1.Invalidation',
      'cachetail-event-id': `gtid:${written[0]?.gtid}#0`,
    });
    const inv = first!.inv;
    expect({
      transactionId: inv.transactionId,
      source: [inv.source?.flavor, inv.source?.serverId],
      origin: inv.originServerId,
      region: inv.originRegion,
      file: inv.position?.file,
      writerTime: inv.writerTime && timestampMs(inv.writerTime),
    }).toEqual({
      transactionId: `gtid:${written[0]?.gtid}`,
      source: [info.server.flavor === 'mysql' ? Flavor.MYSQL : Flavor.MARIADB, 2],
      origin: 1,
      region: 'replica-region',
      file: expect.stringMatching(/^mysql-bin\.\d{6}$/),
      writerTime: ts,
    });
    expect(inv.position!.position).toBeGreaterThan(4n);
    const commitMs = timestampMs(inv.commitTime!);
    expect(commitMs).toBeGreaterThanOrEqual(Math.floor(ts / 1000) * 1000);
    expect(commitMs).toBeLessThanOrEqual(Date.now());
    expect(byId.get(`gtid:${written[1]?.gtid}#0`)?.inv.writerTime).toBeUndefined();
  });

  it('keeps its own checkpoint, at the last published transaction', async () => {
    // Nothing was written after the last transaction: the checkpoint holds exactly what the replica's
    // binlog holds (MariaDB: the last write's GTID; MySQL: the set that ends with it, plus whatever
    // earlier files left there — tagged GTIDs, the replica's own FLUSH events).
    await cluster.waitForReplicaCatchUp();
    const state = await cluster.gtidState('replica');
    expect(GtidState.parse(state).hasReached(written.at(-1)!.gtid)).toBe(true);
    await waitFor('the Kafka checkpoint to cover the last write', async () => {
      const { readFile } = await import('node:fs/promises');
      const cp = JSON.parse(await readFile(kafkaTailer.checkpointPath, 'utf8')) as { gtid: string };
      return sameGtids(cp.gtid, state) || undefined;
    });
    expect(kafkaTailer.checkpointPath.endsWith('/checkpoint-kafka.json')).toBe(true);
  });

  it("publishes the memcached tailer's watermark as InvalidationApplied", async () => {
    const last = written.at(-1)!.gtid;
    await waitFor('the memcached tailer to delete the last keys', () =>
      memcachedTailer.sink.transactions.some((t) => t.gtid === last) ? true : undefined,
    );
    const config = await kafkaTailerConfig(info, {
      serverId: 7_603,
      brokers,
      topic,
      kafka: { tailerId: 'it-host' },
    });
    const t = memcachedTailer.tailer;
    const publisher = createAppliedPublisher(config, log, {
      watermark: () => tailerStatus(t, config.region, null).watermark,
      source: () => t.identity,
    });
    publisher!.start();
    const kafka = new Kafka({ clientId: 'applied-reader', brokers, logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: `${topic}-applied-reader` });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [`${topic}-applied`], fromBeginning: true });
      const received = await new Promise<{
        key: string;
        gtid: string;
        region: string;
        tailer: string;
        server: number;
      }>((resolve) => {
        void consumer.run({
          eachMessage: ({ message }) => {
            const m = decodeApplied(message.value ?? new Uint8Array());
            if (m.watermarkGtid && GtidState.parse(m.watermarkGtid).hasReached(last)) {
              resolve({
                key: String(message.key),
                gtid: m.watermarkGtid,
                region: m.region,
                tailer: m.tailerId,
                server: m.source?.serverId ?? 0,
              });
            }
            return Promise.resolve();
          },
        });
      });
      expect(received).toMatchObject({
        key: 'replica-region/it-host',
        region: 'replica-region',
        tailer: 'it-host',
        server: 2,
      });
      // The watermark is all the replica's binlog holds (nothing was written after the last write):
      // MariaDB one GTID per domain (`0-1-57`); MySQL a GTID set (`uuid:1-57`, with whatever tagged or
      // replica-local GTIDs earlier files of the run left on the shared pair).
      expect(sameGtids(received.gtid, await cluster.gtidState('replica'))).toBe(true);
      expect(received.gtid).toMatch(info.server.flavor === 'mysql' ? /^[0-9a-f-]{36}:1-\d+/ : /^0-1-\d+$/);
    } finally {
      await consumer.disconnect();
      await publisher!.stop();
    }
  });

  it('never creates a topic: publishing to a missing one keeps failing and the topic stays absent', async () => {
    const missing = uniqueTopic('missing');
    const config = await kafkaTailerConfig(info, { serverId: 7_605, brokers, topic: missing });
    const { sink } = createKafkaTailer(config, log);
    const ac = new AbortController();
    const delivering = sink.deliver(
      {
        transactions: [
          { gtid: '0-1-1', file: 'f', nextPosition: 100, serverId: 1, commitTimeMs: 0, keys: ['k'] },
        ],
        keys: ['k'],
      },
      ac.signal,
    );
    await waitFor('a failed send', () => (sink.stats.failedSends > 0 ? true : undefined), 30_000);
    ac.abort(new Error('test over'));
    await expect(delivering).rejects.toThrow('test over');
    await sink.close();
    const admin = new Kafka({ clientId: 'check', brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    expect(await admin.listTopics()).not.toContain(missing);
    await admin.disconnect();
    expect(sink.stats.published).toBe(0);
  });
});
