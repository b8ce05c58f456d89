/**
 * Builds the Kafka side of `cachetail tail` from validated config: a second, independent Tailer whose
 * sink publishes to Kafka, and the publisher of the memcached tailer's watermark. No env, no signals.
 *
 * Why a second tailer rather than a second sink behind the first: each keeps its own cursor. It has its
 * own replication connection (server id source.serverId + 1), its own checkpoint
 * (`<stateDir>/checkpoint-kafka.json`) and its own spill dir, so a Kafka outage pauses only its reading
 * (backpressure) and its checkpoint, never a memcached delete; when Kafka returns it continues from its
 * own position and skips nothing. The binlog is read twice; that is the price of the independence.
 */
import { hostname } from 'node:os';
import type { ServerIdentity } from '../contracts/server.js';
import type { TailerConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { Watermark } from '../observability/status.js';
import { AppliedPublisher } from '../sinks/kafka/applied.js';
import { createKafkaClient } from '../sinks/kafka/client.js';
import type { KafkaConfig } from '../sinks/kafka/config.js';
import type { KafkaMetrics } from '../sinks/kafka/metrics.js';
import { KafkajsProducer, type RecordProducer } from '../sinks/kafka/producer.js';
import { KafkaSink } from '../sinks/kafka/sink.js';
import { CheckpointStore } from '../tailer/checkpoint.js';
import { annotationExtractor } from '../tailer/extract.js';
import { Tailer } from '../tailer/tailer.js';
import type { KeyExtractor } from '../tailer/transactions.js';
import { tailerCoreOptions } from './tailer-options.js';

export const KAFKA_CHECKPOINT_FILE = 'checkpoint-kafka.json';

/** The parts of the tailer config the Kafka tailer uses, with the `kafka` section embedded. */
export type KafkaTailerConfig = Pick<
  TailerConfig,
  'region' | 'source' | 'start' | 'stateDir' | 'checkpoint' | 'batch'
> & { readonly kafka: KafkaConfig };

export interface KafkaTailerDeps {
  /** The memcached tailer's extractor, so both publish exactly the same keys (default: annotations). */
  extract?: KeyExtractor;
  /** Tests: a recording producer instead of kafkajs. */
  producer?: RecordProducer;
}

/** The Kafka tailer's registration id: its own, so the two dumps never evict each other. */
export function kafkaServerId(config: KafkaTailerConfig): number {
  return config.kafka.serverId ?? config.source.serverId + 1;
}

export function createKafkaTailer(
  config: KafkaTailerConfig,
  log: Logger,
  metrics?: KafkaMetrics,
  deps: KafkaTailerDeps = {},
): { tailer: Tailer; sink: KafkaSink; checkpointPath: string } {
  const kafka = config.kafka;
  const tlog = log.child({ tailer: 'kafka' });
  const producer =
    deps.producer ??
    new KafkajsProducer({
      kafka: createKafkaClient(kafka, tlog),
      log: tlog.child({ module: 'sink.kafka' }),
      compression: kafka.producer.compression,
    });
  const source = { ...config.source, serverId: kafkaServerId(config) };
  const checkpoints = new CheckpointStore(config.stateDir, KAFKA_CHECKPOINT_FILE);
  let tailer: Tailer | null = null;
  const sink = new KafkaSink({
    producer,
    topic: kafka.topic,
    region: config.region,
    source: () => tailer?.identity ?? null,
    log: tlog.child({ module: 'sink.kafka' }),
    maxRecordsPerSend: kafka.producer.maxBatchKeys,
    backoff: kafka.producer.retryBackoff,
    metrics: metrics?.sink,
  });
  tailer = new Tailer({
    // Its own connection and server id; the memcached tailer already logs the preflight's warnings.
    // The commit gate holds here too: consumers apply these records to other tiers.
    ...tailerCoreOptions(config, {
      source,
      checkpoints,
      spillDir: 'spill-kafka',
      log: tlog,
      logWarnings: false,
    }),
    sink,
    extract: deps.extract ?? annotationExtractor(tlog.child({ module: 'annotate' })),
    metrics: metrics?.tailer,
    // Kafka cannot be "flushed": on a gap this tailer stops and reports, whatever the memcached policy.
    gapPolicy: 'fail-closed',
  });
  return { tailer, sink, checkpointPath: checkpoints.path };
}

/**
 * The publisher of InvalidationApplied for the memcached tailer: `watermark` and `source` read that
 * tailer (e.g. `tailerStatus(tailer, …).watermark` and `tailer.identity`). Call `start()` after the
 * tailer started and `await stop()` after it stopped. Null when kafka or kafka.applied is disabled.
 */
export function createAppliedPublisher(
  config: Pick<TailerConfig, 'region'> & { readonly kafka: KafkaConfig },
  log: Logger,
  memcachedTailer: { watermark: () => Watermark | null; source: () => ServerIdentity | null },
  metrics?: KafkaMetrics,
  deps: { producer?: RecordProducer } = {},
): AppliedPublisher | null {
  const kafka = config.kafka;
  if (!kafka.enabled || !kafka.applied.enabled) return null;
  const alog = log.child({ module: 'kafka.applied' });
  return new AppliedPublisher({
    producer:
      deps.producer ??
      new KafkajsProducer({ kafka: createKafkaClient(kafka, alog), log: alog, compression: 'none' }),
    topic: kafka.appliedTopic,
    region: config.region,
    tailerId: kafka.tailerId ?? hostname(),
    watermark: memcachedTailer.watermark,
    source: memcachedTailer.source,
    log: alog,
    intervalMs: kafka.applied.intervalMs,
    heartbeatMs: kafka.applied.heartbeatMs,
    metrics: metrics?.applied,
  });
}
