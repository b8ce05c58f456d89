/**
 * Shared pieces of the Kafka integration tests: a Kafka tailer configured on the shared cluster's
 * replica, private topics created as `cachetail kafka init` would, a reader that decodes a topic with
 * the generated types, and annotated writes on the primary that report their GTID (lastWriteGtid: MariaDB
 * @@last_gtid, MySQL the GTID in COMMIT's OK packet).
 */
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { fromBinary } from '@bufbuild/protobuf';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import type { Connection } from 'mysql2/promise';
import { annotate } from '../../src/annotate/index.js';
import { lastWriteGtid, trackWriteGtids } from '../../src/app/index.js';
import { tailerConfigSchema } from '../../src/config/schema.js';
import type { ClusterInfo } from '../../src/devcluster/index.js';
import { InvalidationSchema, type Invalidation } from '../../src/gen/cachetail/v1/invalidation_pb.js';
import { kafkaConfigSchema, type KafkaConfigInput } from '../../src/sinks/kafka/config.js';
import { ensureTopics, kafkajsTopicAdmin, topicSpecs } from '../../src/sinks/kafka/topics.js';
import type { KafkaTailerConfig } from '../../src/wiring/kafka-tailer.js';
import { waitFor } from '../helpers/wait.js';

export const DB = 'kafka_it';

/** A topic name no other test (or earlier run on the same broker) uses. */
export function uniqueTopic(prefix: string): string {
  return `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
}

export async function kafkaTailerConfig(
  info: ClusterInfo,
  opts: {
    serverId: number;
    brokers: string[];
    topic: string;
    kafka?: Partial<KafkaConfigInput>;
    maxPending?: number;
    stateDir?: string;
  },
): Promise<KafkaTailerConfig> {
  const base = tailerConfigSchema.parse({
    region: 'replica-region',
    source: {
      host: info.replica.host,
      port: info.replica.port,
      user: info.tailerUser.user,
      password: info.tailerUser.password,
      // The Kafka tailer registers as serverId + 1.
      serverId: opts.serverId - 1,
      heartbeatMs: 1_000,
    },
    memcached: { servers: [info.memcached.replica] },
    // Under the cluster's dir: removed with it.
    stateDir: opts.stateDir ?? (await mkdtemp(join(info.baseDir, 'kafka-state-'))),
    checkpoint: { intervalMs: 100 },
    batch: { maxKeys: 1_000, maxPendingTransactions: opts.maxPending ?? 1_000 },
  });
  const kafka = kafkaConfigSchema.parse({
    enabled: true,
    brokers: opts.brokers,
    topic: opts.topic,
    appliedTopic: `${opts.topic}-applied`,
    producer: { retryBackoff: { initialMs: 100, maxMs: 2_000 } },
    ...opts.kafka,
  });
  return { ...base, kafka };
}

/** Creates the topic pair with kafka init's logic (single broker: replication factor 1). */
export async function createTopics(brokers: string[], topic: string, partitions = 3): Promise<void> {
  const kafka = new Kafka({ clientId: 'kafka-it-admin', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(
      kafkajsTopicAdmin(admin),
      topicSpecs({
        topic,
        appliedTopic: `${topic}-applied`,
        topics: { partitions, replicationFactor: 1, minInsyncReplicas: 1, retentionMs: 3_600_000 },
      }),
    );
  } finally {
    await admin.disconnect();
  }
}

export interface TopicRecord {
  partition: number;
  offset: bigint;
  key: string;
  headers: Record<string, string>;
  inv: Invalidation;
}

/** Reads a topic from the beginning (its own consumer group) and decodes every record as it comes. */
export class TopicReader {
  readonly records: TopicRecord[] = [];
  private constructor(private readonly consumer: Consumer) {}

  static async start(brokers: string[], topic: string): Promise<TopicReader> {
    const kafka = new Kafka({ clientId: 'kafka-it-reader', brokers, logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({
      groupId: `${topic}-reader-${Date.now()}`,
      allowAutoTopicCreation: false,
    });
    const reader = new TopicReader(consumer);
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: ({ partition, message }) => {
        reader.records.push({
          partition,
          offset: BigInt(message.offset),
          key: message.key?.toString() ?? '',
          headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
          inv: fromBinary(InvalidationSchema, message.value ?? new Uint8Array()),
        });
        return Promise.resolve();
      },
    });
    return reader;
  }

  /** Waits until every id in `ids` has been read at least once. */
  async waitForIds(ids: readonly string[], what: string, timeoutMs = 60_000): Promise<void> {
    await waitFor(
      what,
      () => {
        const seen = new Set(this.records.map((r) => r.inv.eventId));
        return ids.every((id) => seen.has(id)) ? true : undefined;
      },
      timeoutMs,
      50,
    );
  }

  stop(): Promise<void> {
    return this.consumer.disconnect();
  }
}

export interface Written {
  gtid: string;
  keys: string[];
  /** The event ids the publisher must use for these keys. */
  ids: string[];
}

/** One annotated transaction of one or more statements on `conn`; returns its GTID and keys. */
export async function writeTransaction(
  conn: Connection,
  statements: readonly (readonly string[])[],
  ts?: number,
): Promise<Written> {
  await trackWriteGtids(conn); // once per session
  await conn.query('BEGIN');
  for (const keys of statements) {
    const sql = annotate(`INSERT INTO ${DB}.items (v) VALUES (?)`, keys, ts === undefined ? {} : { ts });
    await conn.query(sql, [keys.join(' ').slice(0, 60)]);
  }
  const [commit] = await conn.query('COMMIT');
  const gtid = await lastWriteGtid(conn, commit);
  if (!gtid) throw new Error('the server reported no GTID for the transaction');
  const keys = [...new Set(statements.flat())];
  return { gtid, keys, ids: keys.map((_, i) => `gtid:${gtid}#${i}`) };
}

export const CREATE_TABLE = `CREATE DATABASE IF NOT EXISTS ${DB};
  CREATE TABLE IF NOT EXISTS ${DB}.items (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(64)) ENGINE=InnoDB`;

/** Per key, the GTIDs of its records in the order the topic holds them (first occurrence of each id). */
export function gtidsPerKey(records: readonly TopicRecord[]): Map<string, string[]> {
  const seen = new Set<string>();
  const out = new Map<string, string[]>();
  const ordered = [...records].sort((a, b) => a.partition - b.partition || Number(a.offset - b.offset));
  for (const r of ordered) {
    if (seen.has(r.inv.eventId)) continue;
    seen.add(r.inv.eventId);
    out.set(r.key, [...(out.get(r.key) ?? []), r.inv.gtid]);
  }
  return out;
}
