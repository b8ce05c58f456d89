/**
 * `cachetail consume` as a real process, pointed at a third memcached tier: the Kafka tailer publishes
 * annotated writes from the real pair, the consumer applies the topic and deletes exactly the annotated
 * keys (the tier's -vv log names every delete; keys nobody annotated stay), drops re-sent records by
 * event id, commits everything it applied (group lag 0) and exits 0 on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toBinary } from '@bufbuild/protobuf';
import { Kafka, logLevel } from 'kafkajs';
import memjs from 'memjs';
import type { Connection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { clusterControl, ensureKafka } from '../../src/devcluster/index.js';
import { InvalidationSchema } from '../../src/gen/cachetail/v1/invalidation_pb.js';
import { killMemcached, startMemcached, type MemcachedServer } from '../../src/devcluster/memcached.js';
import { createLogger } from '../../src/observability/logger.js';
import type { KafkaSink } from '../../src/sinks/kafka/sink.js';
import { createKafkaTailer } from '../../src/wiring/kafka-tailer.js';
import type { Tailer } from '../../src/tailer/tailer.js';
import { waitFor } from '../helpers/wait.js';
import {
  CREATE_TABLE,
  createTopics,
  kafkaTailerConfig,
  TopicReader,
  uniqueTopic,
  writeTransaction,
  type Written,
} from './kafka-support.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const info = inject('cluster');
const cluster = clusterControl(info);
const log = createLogger(process.env.CACHETAIL_TEST_LOG ?? 'silent');

interface Status {
  state: string;
  lagTotal: number;
  stats: { messages: number; applied: number; duplicates: number; malformed: number; keysDeleted: number };
}

describe('cachetail consume on a third memcached tier', () => {
  const topic = uniqueTopic('consume');
  const groupId = `${topic}-tier3`;
  let brokers: string[] = [];
  let tier: MemcachedServer;
  let client: memjs.Client;
  let kafkaTailer: { tailer: Tailer; sink: KafkaSink };
  let conn: Connection;

  beforeAll(async () => {
    brokers = (await ensureKafka(info)).brokers;
    await cluster.query('primary', CREATE_TABLE);
    await cluster.waitForReplicaCatchUp();
    await createTopics(brokers, topic, 3);
    tier = await startMemcached({ baseDir: info.baseDir, name: 'memcached-tier3', verbose: true });
    client = memjs.Client.create(tier.address, { logger: { log: () => undefined } });
    kafkaTailer = createKafkaTailer(await kafkaTailerConfig(info, { serverId: 7_621, brokers, topic }), log);
    await kafkaTailer.tailer.start();
    conn = await cluster.connect('primary');
  });
  afterAll(async () => {
    await conn?.end();
    await kafkaTailer?.tailer.stop();
    await kafkaTailer?.sink.close();
    client?.close();
    if (tier) await killMemcached(tier, 'SIGTERM');
  });

  it('deletes exactly the annotated keys, drops re-sent records, commits all, exits 0 on SIGTERM', async () => {
    const annotated = new Set<string>();
    const control = Array.from({ length: 20 }, (_, i) => `tier3:control:${i}`);
    const written: Written[] = [];
    for (let i = 0; i < 25; i++) {
      const keys = [`tier3:hot:${i % 4}`, `tier3:row:${i}`];
      keys.forEach((k) => annotated.add(k));
    }
    for (const k of [...annotated, ...control]) await client.set(k, 'cached', { expires: 600 });

    const configFile = join(info.baseDir, `${topic}.json`);
    await writeFile(
      configFile,
      JSON.stringify({
        region: 'tier3',
        kafka: { brokers, topic, groupId, start: 'earliest' },
        memcached: { servers: [tier.address] },
        lag: { intervalMs: 300 },
        status: { port: 0 },
        log: { level: 'info' },
      }),
    );
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', 'consume', '--config', configFile],
      {
        cwd: repo,
        env: { ...process.env, CACHETAIL_LOG_LEVEL: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
    try {
      const address = await waitFor(
        'the consumer status server',
        () => {
          const line = out.split('\n').find((l) => l.includes('"status server listening"'));
          return line ? (JSON.parse(line) as { address: string }).address : undefined;
        },
        30_000,
      );
      const status = async (): Promise<Status> =>
        (await (await fetch(`http://${address}/status`)).json()) as Status;
      await waitFor(
        'the consumer to be running',
        async () => ((await status()).state === 'running' ? true : undefined),
        30_000,
      );

      for (let i = 0; i < 25; i++) {
        written.push(await writeTransaction(conn, [[`tier3:hot:${i % 4}`, `tier3:row:${i}`]]));
      }
      const ids = written.flatMap((w) => w.ids);
      await waitFor(
        'every annotated key gone from tier 3',
        async () => {
          for (const k of annotated) if ((await client.get(k)).value !== null) return undefined;
          return true;
        },
        60_000,
      );

      // A publisher retry re-sends records: the consumer drops them by event id.
      const reader = await TopicReader.start(brokers, topic);
      await reader.waitForIds(ids, 'the published records');
      const resend = reader.records.slice(0, 10);
      await reader.stop();
      const producer = new Kafka({ clientId: 'resend', brokers, logLevel: logLevel.NOTHING }).producer();
      await producer.connect();
      await producer.send({
        topic,
        messages: resend.map((r) => ({
          key: r.key,
          value: Buffer.from(toBinary(InvalidationSchema, r.inv)),
          headers: r.headers,
        })),
      });
      await producer.disconnect();

      const final = await waitFor(
        'all messages applied and committed (lag 0)',
        async () => {
          const s = await status();
          return s.stats.messages === ids.length + 10 && s.lagTotal === 0 ? s : undefined;
        },
        60_000,
      );
      expect(final.stats).toEqual({
        messages: ids.length + 10,
        applied: ids.length,
        duplicates: 10,
        malformed: 0,
        keysDeleted: expect.any(Number),
        commits: expect.any(Number),
      });

      // Exactly the annotated keys were deleted; the others are still cached.
      const log = await readFile(join(info.baseDir, 'memcached-tier3', 'memcached.log'), 'utf8');
      // memcached's -vv lines come from several threads and can interleave (a key can come out cut), so
      // only whole lines are read: none names a key that was not annotated, none names a control key;
      // with every annotated key gone (above) and every control key cached (below), exactly the
      // annotated keys were deleted. Hot keys are annotated by several transactions: deleted repeatedly.
      const deleted = [...log.matchAll(/^Deleting (tier3:[a-z]+:\d+)$/gm)].map((m) => m[1]);
      // A key may be absent from the whole lines only if its line was cut: no more absent keys than cut lines.
      const cutLines = [...log.matchAll(/Deleting /g)].length - deleted.length;
      const unseen = [...annotated].filter((k) => !deleted.includes(k));
      expect(unseen.length).toBeLessThanOrEqual(cutLines);
      expect(deleted.filter((k) => !annotated.has(k))).toEqual([]);
      for (const k of control) expect(log).not.toContain(`Deleting ${k}`);
      for (const k of control) expect((await client.get(k)).value?.toString()).toBe('cached');

      // The group committed up to the end of every partition.
      const admin = new Kafka({ clientId: 'check', brokers, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const ends = await admin.fetchTopicOffsets(topic);
      await admin.disconnect();
      expect(
        committed?.partitions.map((p) => [p.partition, p.offset]).sort((a, b) => Number(a[0]) - Number(b[0])),
      ).toEqual(ends.map((e) => [e.partition, e.high]).sort((a, b) => Number(a[0]) - Number(b[0])));
      const metrics = await (await fetch(`http://${address}/metrics`)).text();
      expect(metrics).toContain('cachetail_consumer_messages_total{result="duplicate"} 10');
      expect(metrics).toMatch(/cachetail_consumer_lag_messages\{partition="0"\} 0/);
      expect(out).toContain('"consumer group lag"');
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  }, 180_000);
});
