/**
 * Metrics of the Kafka side, on a registry passed in (as the tailer's). The Kafka tailer is a second
 * Tailer in the process, so its own state, backlog, lag and checkpoint age are exported under
 * `cachetail_kafka_*` names — the memcached tailer's `cachetail_*` series stay exactly what they were.
 * Meaning and units: docs/kafka.md.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import {
  CheckpointClock,
  LATENCY_BUCKETS,
  ReplicationLag,
  type TailerMetrics,
} from '../../observability/metrics.js';
import { TAILER_STATES, type TailerState } from '../../observability/labels.js';

export interface KafkaSinkMetrics {
  /** Records the broker acknowledged. */
  published(messages: number, seconds: number): void;
  /** A send that failed (it is retried). */
  publishError(): void;
}

export interface AppliedMetrics {
  published(): void;
  publishError(): void;
}

export interface KafkaMetrics {
  sink: KafkaSinkMetrics;
  applied: AppliedMetrics;
  /** For the Kafka tailer's `metrics` option. */
  tailer: TailerMetrics;
}

const noop = { inc: () => undefined };

export function createKafkaMetrics(registry: Registry, now: () => number = Date.now): KafkaMetrics {
  const registers = [registry];
  const messages = new Counter({
    name: 'cachetail_kafka_messages_published_total',
    help: 'Invalidation messages acknowledged by the Kafka brokers (acks=all); repeats after a retry count again.',
    registers,
  });
  const errors = new Counter({
    name: 'cachetail_kafka_publish_errors_total',
    help: 'Failed sends of an invalidation batch to Kafka (each is retried until acknowledged).',
    registers,
  });
  const sendSeconds = new Histogram({
    name: 'cachetail_kafka_send_seconds',
    help: 'Duration of one acknowledged send of an invalidation batch.',
    buckets: [...LATENCY_BUCKETS],
    registers,
  });
  const latency = new Histogram({
    name: 'cachetail_kafka_invalidation_latency_seconds',
    help: 'Binlog commit time (1 s precision) to Kafka acknowledgement, per transaction.',
    buckets: [...LATENCY_BUCKETS],
    registers,
  });
  const applied = new Counter({
    name: 'cachetail_kafka_applied_published_total',
    help: 'InvalidationApplied watermarks published.',
    registers,
  });
  const appliedErrors = new Counter({
    name: 'cachetail_kafka_applied_errors_total',
    help: 'Failed InvalidationApplied publishes (the latest watermark is published at the next tick).',
    registers,
  });
  const stateGauge = new Gauge({
    name: 'cachetail_kafka_tailer_state',
    help: 'Kafka tailer state: 1 for the current one, 0 for the others.',
    labelNames: ['state'],
    registers,
  });
  const pending = new Gauge({
    name: 'cachetail_kafka_pending_transactions',
    help: 'Committed transactions waiting to be published (grows while Kafka is unreachable).',
    registers,
  });
  const paused = new Gauge({
    name: 'cachetail_kafka_reading_paused',
    help: '1 while the Kafka tailer has paused reading the binlog because Kafka lags (backpressure).',
    registers,
  });
  const lag = new ReplicationLag(now);
  new Gauge({
    name: 'cachetail_kafka_replication_lag_seconds',
    help: 'Now minus the timestamp of the last binlog event the Kafka tailer read; 0 when caught up.',
    registers,
    collect() {
      this.set(lag.gaugeSeconds());
    },
  });
  const checkpoint = new CheckpointClock(now);
  new Gauge({
    name: 'cachetail_kafka_checkpoint_age_seconds',
    help: 'Seconds since the Kafka tailer last wrote its checkpoint (or loaded it; else since start).',
    registers,
    collect() {
      this.set(checkpoint.ageSeconds());
    },
  });
  messages.inc(0);
  errors.inc(0);
  applied.inc(0);
  appliedErrors.inc(0);
  pending.set(0);
  paused.set(0);

  let current: TailerState = 'idle';
  const setState = (state: TailerState): void => {
    current = state;
    for (const s of TAILER_STATES) stateGauge.set({ state: s }, s === state ? 1 : 0);
  };
  setState('idle');

  const tailer: TailerMetrics = {
    registry,
    // Event, key and reconnect counts are the memcached tailer's business; the same binlog is read.
    binlogEvents: noop,
    transactions: noop,
    transactionsWithKeys: noop,
    keysInvalidated: noop,
    deleteErrors: noop,
    batchKeys: { observe: () => undefined },
    replicationLag: lag,
    invalidationLatency: { observe: (s) => latency.observe(Math.max(0, s)) },
    endToEndLatency: { observe: () => undefined },
    checkpoint,
    annotationKeysRejected: noop,
    reconnects: noop,
    gapEvents: noop,
    state: { set: setState, get: () => current },
    pendingTransactions: { set: (n) => pending.set(n) },
    readingPaused: { set: (p) => paused.set(p ? 1 : 0) },
    acknowledged(txns, ackTimeMs = now()) {
      for (const txn of txns) latency.observe(Math.max(0, (ackTimeMs - txn.commitTimeMs) / 1000));
    },
  };

  return {
    sink: {
      published: (n, seconds) => {
        messages.inc(n);
        sendSeconds.observe(seconds);
      },
      publishError: () => errors.inc(),
    },
    applied: { published: () => applied.inc(), publishError: () => appliedErrors.inc() },
    tailer,
  };
}
