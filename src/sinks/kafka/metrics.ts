/**
 * Metrics of the Kafka side, on a registry passed in (as the tailer's). The Kafka tailer is a second
 * Tailer in the process, so its own state, backlog, lag and checkpoint age are exported under
 * `cachetail_kafka_*` names — the memcached tailer's `cachetail_*` series stay exactly what they were.
 * Meaning and units: docs/kafka.md.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import { createTailerMetrics, LATENCY_BUCKETS, type TailerMetrics } from '../../observability/metrics.js';

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
  messages.inc(0);
  errors.inc(0);
  applied.inc(0);
  appliedErrors.inc(0);

  // The Kafka tailer's own state, backlog, lag, checkpoint age and latency (cachetail_kafka_*).
  const tailer = createTailerMetrics(registry, { tailer: 'kafka', now });

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
