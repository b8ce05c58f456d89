/** Error descriptions for operators, and the Kafka metric set beside the tailer's on one registry. */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createTailerMetrics } from '../../../src/observability/metrics.js';
import { kafkaErrorCode, kafkaErrorMessage } from '../../../src/sinks/kafka/client.js';
import { createKafkaMetrics } from '../../../src/sinks/kafka/metrics.js';

class KafkaJSConnectionError extends Error {
  override name = 'KafkaJSConnectionError';
}
class KafkaJSNumberOfRetriesExceeded extends Error {
  override name = 'KafkaJSNumberOfRetriesExceeded';
  constructor(
    message: string,
    readonly originalError: Error,
  ) {
    super(message);
  }
}

describe('kafka errors', () => {
  it('names the parts of an aggregate and the nested cause', () => {
    const part = Object.assign(new Error('Replication-factor is invalid'), {
      topic: 'cache-invalidations',
      type: 'INVALID_REPLICATION_FACTOR',
    });
    const aggregate = Object.assign(new Error('Topic creation errors'), { errors: [part] });
    expect(kafkaErrorMessage(aggregate)).toBe(
      'Topic creation errors: cache-invalidations: Replication-factor is invalid (INVALID_REPLICATION_FACTOR)',
    );
    expect(kafkaErrorCode(aggregate)).toBe('KAFKA_REFUSED');
    const unreachable = new KafkaJSNumberOfRetriesExceeded(
      'Number of retries exceeded',
      new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:1'),
    );
    expect(kafkaErrorMessage(unreachable)).toBe(
      'Number of retries exceeded: Connection error: connect ECONNREFUSED 127.0.0.1:1',
    );
    expect(kafkaErrorCode(unreachable)).toBe('KAFKA_UNAVAILABLE');
  });
});

describe('Kafka metrics', () => {
  it('register beside the tailer set on one registry, under cachetail_kafka_*', async () => {
    const registry = new Registry();
    createTailerMetrics(registry);
    const kafka = createKafkaMetrics(registry, () => 10_000);
    kafka.sink.published(3, 0.002);
    kafka.sink.publishError();
    kafka.tailer.state.set('streaming');
    kafka.tailer.pendingTransactions.set(7);
    kafka.tailer.acknowledged([{ commitTimeMs: 8_000 }], 10_000);
    const text = await registry.metrics();
    for (const line of [
      'cachetail_kafka_messages_published_total 3',
      'cachetail_kafka_publish_errors_total 1',
      'cachetail_kafka_tailer_state{state="streaming"} 1',
      'cachetail_kafka_pending_transactions 7',
      'cachetail_kafka_invalidation_latency_seconds_count 1',
      'cachetail_kafka_invalidation_latency_seconds_sum 2',
      'cachetail_state{state="idle"} 1',
    ]) {
      expect(text).toContain(line);
    }
  });
});

describe('one tailer-metrics factory for both tailers', () => {
  const names = async (registry: Registry) => (await registry.getMetricsAsJSON()).map((m) => m.name).sort();

  it('the memcached tailer exports exactly its cachetail_* families', async () => {
    const registry = new Registry();
    createTailerMetrics(registry);
    expect(await names(registry)).toEqual([
      'cachetail_annotation_keys_rejected_total',
      'cachetail_batch_keys',
      'cachetail_binlog_events_total',
      'cachetail_checkpoint_age_seconds',
      'cachetail_checkpoint_writes_total',
      'cachetail_delete_errors_total',
      'cachetail_end_to_end_latency_seconds',
      'cachetail_gap_events_total',
      'cachetail_invalidation_latency_seconds',
      'cachetail_keys_invalidated_total',
      'cachetail_pending_transactions',
      'cachetail_reading_paused',
      'cachetail_reconnects_total',
      'cachetail_replication_lag_seconds',
      'cachetail_state',
      'cachetail_transactions_total',
      'cachetail_transactions_with_keys_total',
    ]);
  });

  it('the Kafka tailer exports only its progress, under cachetail_kafka_* names (as before the merge)', async () => {
    const registry = new Registry();
    const kafka = createKafkaMetrics(registry, () => 5_000);
    expect(await names(registry)).toEqual([
      'cachetail_kafka_applied_errors_total',
      'cachetail_kafka_applied_published_total',
      'cachetail_kafka_checkpoint_age_seconds',
      'cachetail_kafka_invalidation_latency_seconds',
      'cachetail_kafka_messages_published_total',
      'cachetail_kafka_pending_transactions',
      'cachetail_kafka_publish_errors_total',
      'cachetail_kafka_reading_paused',
      'cachetail_kafka_replication_lag_seconds',
      'cachetail_kafka_send_seconds',
      'cachetail_kafka_tailer_state',
    ]);
    // Counting events and keys again would double the memcached tailer's counts: these are no-ops.
    kafka.tailer.binlogEvents.inc('query');
    kafka.tailer.checkpoint.written(4_000);
    kafka.tailer.acknowledged([{ commitTimeMs: 1_000, writerTimeMs: 500 }], 5_000);
    const text = await registry.metrics();
    expect(text).toContain('cachetail_kafka_invalidation_latency_seconds_sum 4');
    expect(text).toContain('cachetail_kafka_checkpoint_age_seconds 1');
    expect(text).not.toContain('cachetail_binlog_events_total');
  });
});
