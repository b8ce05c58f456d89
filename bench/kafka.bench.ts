/**
 * Kafka publishing benchmark (issue #7), on a real devcluster (MariaDB primary → replica) and the
 * single-node KRaft broker:
 *
 * 1. End-to-end latency at a paced load (1,000, 2,500 and 5,000 annotated transactions/s on the primary,
 *    1–3 keys each): commit on the replica (its XID event reaching an independent binlog observer,
 *    bench/lib/tailer-observer.ts) → the transaction's first record readable by a consumer of the topic
 *    (this process). The Kafka tailer runs in its own process (bench/lib/kafka-tailer-child.ts), built
 *    by createKafkaTailer; all stamps are on the shared monotonic clock.
 * 2. Publish throughput: the Kafka tailer is stopped, a backlog is written (10,000/s for 10 s), then a new
 *    Kafka tailer resumes from its checkpoint and publishes it as fast as it can: messages/s from its
 *    start to the last record readable.
 *
 *   npm run bench -- kafka        (or: npx tsx bench/kafka.bench.ts)
 *
 * Environment: BENCH_KAFKA_SECONDS (measured seconds per latency phase, default 10),
 * BENCH_KAFKA_PARTITIONS (topic partitions, default 6).
 */
import { mkdtemp } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ensureKafka, startCluster, type Cluster } from '../src/devcluster/index.js';
import { ensureTopics, kafkajsTopicAdmin, topicSpecs } from '../src/sinks/kafka/topics.js';
import type { KafkaTailerArgs } from './lib/kafka-tailer-child.js';
import { endChild, forkChild, message, nowMs, type SourceInfo } from './lib/tailer-harness.js';
import { summarize, type Summary } from './lib/tailer-latency.js';
import type { LoadArgs } from './lib/tailer-load.js';

const SECONDS = Number(process.env.BENCH_KAFKA_SECONDS ?? 10);
const PARTITIONS = Number(process.env.BENCH_KAFKA_PARTITIONS ?? 6);
const WARMUP = 2;
const ROWS = 32_000;
const CONNECTIONS = 16;
const TOPIC = 'bench-invalidations';

const stderr = (s: string) => process.stderr.write(`${s}\n`);
const ms = (x: number) => (Number.isNaN(x) ? 'n/a' : x < 10 ? x.toFixed(2) : x.toFixed(1));
const int = (n: number) => Math.round(n).toLocaleString('en-US');

interface Arrivals {
  type: 'arrivals';
  gtids: string[];
  gtidAt: Float64Array;
  commitAt: Float64Array;
}
interface Done {
  type: 'done';
  t0: number;
  doneAt: Float64Array;
  errors: number;
}

/** Every record of the topic as it becomes readable: first-read time per GTID, records per GTID. */
class Reader {
  readonly readAt = new Map<string, number>();
  readonly perGtid = new Map<string, number>();
  records = 0;
  lastAt = 0;
  private constructor(private readonly stopFn: () => Promise<void>) {}

  static async start(brokers: string[]): Promise<Reader> {
    const kafka = new Kafka({ clientId: 'bench-reader', brokers, logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: `bench-reader-${Date.now()}`, maxWaitTimeInMs: 50 });
    const reader = new Reader(() => consumer.disconnect());
    await consumer.connect();
    await consumer.subscribe({ topics: [TOPIC], fromBeginning: true });
    await consumer.run({
      eachBatch: ({ batch }) => {
        const at = nowMs();
        for (const m of batch.messages) {
          // The event-id header ("gtid:0-1-42#1") names the transaction without decoding the value.
          const id = m.headers?.['cachetail-event-id']?.toString() ?? '';
          const gtid = id.slice(5, id.lastIndexOf('#'));
          if (!reader.readAt.has(gtid)) reader.readAt.set(gtid, at);
          reader.perGtid.set(gtid, (reader.perGtid.get(gtid) ?? 0) + 1);
        }
        reader.records += batch.messages.length;
        reader.lastAt = at;
        return Promise.resolve();
      },
    });
    return reader;
  }

  stop(): Promise<void> {
    return this.stopFn();
  }
}

async function until(what: string, timeoutMs: number, ok: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function loadArgs(cluster: Cluster, rate: number, seconds: number, index: number): LoadArgs {
  const info = cluster.info;
  return {
    primary: { host: info.primary.host, port: info.primary.port, ...info.root },
    database: 'bench',
    table: 'items',
    rows: ROWS,
    insertBase: 10_000_000 * (index + 1),
    rate,
    seconds,
    connections: CONNECTIONS,
    tag: `k${index}`,
  };
}

async function runLoad(args: LoadArgs): Promise<Done> {
  const load = forkChild('tailer-load.ts', args);
  try {
    await message(load, 'ready');
    const done = message<Done>(load, 'done');
    load.send({ type: 'go' });
    return await done;
  } finally {
    await endChild(load);
  }
}

interface LatencyRow {
  rate: number;
  transactions: number;
  messagesPerSecond: number;
  missing: number;
  latency: Summary;
}

async function latencyPhase(
  cluster: Cluster,
  reader: Reader,
  source: SourceInfo,
  rate: number,
  index: number,
): Promise<LatencyRow> {
  const observer = forkChild('tailer-observer.ts', { source, serverId: 4_300_100 + index });
  try {
    await message(observer, 'ready');
    const done = await runLoad(loadArgs(cluster, rate, WARMUP + SECONDS, index));
    if (done.errors > 0) stderr(`load: ${done.errors} statements failed`);
    await cluster.waitForReplicaCatchUp(120_000);
    const arrivalsP = message<Arrivals>(observer, 'arrivals');
    observer.send({ type: 'stop' });
    const arrivals = await arrivalsP;
    const from = done.t0 + WARMUP * 1000;
    const to = from + SECONDS * 1000;
    const window = arrivals.gtids
      .map((gtid, i) => ({ gtid, commitAt: arrivals.commitAt[i] ?? NaN }))
      .filter((a) => a.commitAt >= from && a.commitAt < to);
    await until('every window transaction readable on the topic', 120_000, () =>
      window.every((a) => reader.readAt.has(a.gtid)),
    ).catch((err: unknown) => stderr(String(err)));
    const seen = window.filter((a) => reader.readAt.has(a.gtid));
    const messages = seen.reduce((n, a) => n + (reader.perGtid.get(a.gtid) ?? 0), 0);
    return {
      rate,
      transactions: window.length,
      messagesPerSecond: messages / SECONDS,
      missing: window.length - seen.length,
      latency: summarize(seen.map((a) => (reader.readAt.get(a.gtid) ?? NaN) - a.commitAt)),
    };
  } finally {
    await endChild(observer);
  }
}

async function main(): Promise<void> {
  stderr('kafka bench: starting the devcluster and the broker');
  const cluster = await startCluster({ log: stderr });
  try {
    const info = cluster.info;
    const { brokers } = await ensureKafka(info, { log: stderr });
    await cluster.query(
      'primary',
      'CREATE DATABASE bench; CREATE TABLE bench.items (id BIGINT PRIMARY KEY, v INT NOT NULL)',
    );
    const conn = await cluster.connect('primary', { database: 'bench' });
    for (let lo = 1; lo <= ROWS; lo += 4_000) {
      await conn.query(
        `INSERT INTO items (id, v) VALUES ${Array.from({ length: 4_000 }, (_, i) => `(${lo + i}, 0)`).join(',')}`,
      );
    }
    await conn.end();
    await cluster.waitForReplicaCatchUp(60_000);

    const admin = new Kafka({ clientId: 'bench-admin', brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await ensureTopics(
      kafkajsTopicAdmin(admin),
      topicSpecs({
        topic: TOPIC,
        appliedTopic: `${TOPIC}-applied`,
        topics: {
          partitions: PARTITIONS,
          replicationFactor: 1,
          minInsyncReplicas: 1,
          retentionMs: 3_600_000,
        },
      }),
    );
    await admin.disconnect();

    const source: SourceInfo = {
      host: info.replica.host,
      port: info.replica.port,
      user: info.tailerUser.user,
      password: info.tailerUser.password,
    };
    const tailerArgs: KafkaTailerArgs = {
      source,
      serverId: 4_300_001,
      memcached: info.memcached.replica,
      stateDir: await mkdtemp(join(info.baseDir, 'kafka-bench-state-')),
      brokers,
      topic: TOPIC,
    };
    const reader = await Reader.start(brokers);
    let tailer = forkChild('kafka-tailer-child.ts', tailerArgs);
    await message(tailer, 'ready');

    const rows: LatencyRow[] = [];
    for (const [i, rate] of [1_000, 2_500, 5_000].entries()) {
      stderr(`kafka bench: latency at ${rate}/s`);
      rows.push(await latencyPhase(cluster, reader, source, rate, i));
    }

    stderr('kafka bench: backlog with the Kafka tailer stopped');
    const stopped = message<{ type: 'stopped' }>(tailer, 'stopped');
    tailer.send({ type: 'stop' });
    await stopped;
    await endChild(tailer);
    const before = reader.records;
    const backlog = await runLoad(loadArgs(cluster, 10_000, 10, 9));
    await cluster.waitForReplicaCatchUp(120_000);
    // tailer-load.ts names 1 + (i % 3) keys in its i-th transaction.
    let expected = 0;
    for (let i = 0; i < backlog.doneAt.length; i++) expected += 1 + (i % 3);
    const startedAt = nowMs();
    tailer = forkChild('kafka-tailer-child.ts', tailerArgs);
    await message(tailer, 'ready');
    await until('the backlog on the topic', 300_000, () => reader.records - before >= expected);
    const seconds = (reader.lastAt - startedAt) / 1000;
    await endChild(tailer);
    await reader.stop();

    console.log(
      `Kafka publishing (single-node KRaft broker, ${PARTITIONS} partitions, acks=all, idempotent; ` +
        `${cpus().length} CPUs; load 1–3 keys per transaction)\n`,
    );
    console.log(
      '| load (txn/s) | transactions measured | messages/s published | replica commit → readable p50 | p99 | max | missing |',
    );
    console.log('|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of rows) {
      console.log(
        `| ${int(r.rate)} | ${int(r.transactions)} | ${int(r.messagesPerSecond)} | ${ms(r.latency.p50)} ms | ` +
          `${ms(r.latency.p99)} ms | ${ms(r.latency.max)} ms | ${r.missing} |`,
      );
    }
    console.log(
      `\nBacklog: ${int(backlog.doneAt.length)} transactions / ${int(expected)} messages written while the ` +
        `Kafka tailer was stopped; a new one resumed from its checkpoint and published them in ` +
        `${seconds.toFixed(1)} s: **${int(expected / seconds)} messages/s** (start of the process to the last ` +
        `record readable, ${int(reader.records - before - expected)} duplicates).`,
    );
  } finally {
    await cluster.stop();
  }
}

await main();
