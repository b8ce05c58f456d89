/**
 * The invalidation consumer as a library: `createConsumer(config, log)` builds everything
 * `cachetail consume` runs — a memcached sink for the tier (same hashing modes and journal as the
 * tailer's), the applier, and the kafkajs consumer group — without starting anything. Published as
 * `cachetail/consumer`.
 */
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { Logger } from '../observability/logger.js';
import { createKafkaClient } from '../sinks/kafka/client.js';
import { MemcachedSink, memcachedSinkOptions } from '../sinks/memcached/sink.js';
import { Applier } from './apply.js';
import { consumerGroupId, type ConsumerConfig } from './config.js';
import { InvalidationConsumer } from './consumer.js';
import { EventWindow } from './dedup.js';
import { createConsumerMetrics } from './metrics.js';

export { Applier, type ApplierStats, type RawRecord } from './apply.js';
export {
  consumerConfigSchema,
  loadConsumerConfig,
  type ConsumerConfig,
  type ConsumerConfigInput,
} from './config.js';
export { InvalidationConsumer } from './consumer.js';
export { EventWindow } from './dedup.js';

export interface BuiltConsumer {
  consumer: InvalidationConsumer;
  applier: Applier;
  sink: MemcachedSink;
  groupId: string;
}

export function createConsumer(config: ConsumerConfig, log: Logger, registry?: Registry): BuiltConsumer {
  const metrics = registry ? createConsumerMetrics(registry) : undefined;
  const sink = new MemcachedSink(
    memcachedSinkOptions(config.memcached, {
      log: log.child({ module: 'sink.memcached' }),
      journalDir: config.stateDir === undefined ? undefined : join(config.stateDir, 'memcached-journal'),
    }),
  );
  const applier = new Applier({
    sink,
    window: new EventWindow(config.dedup.windowSize),
    maxKeys: config.batch.maxKeys,
    onMalformed: config.onMalformed,
    log: log.child({ module: 'consumer.apply' }),
    metrics,
  });
  const groupId = consumerGroupId(config);
  const consumer = new InvalidationConsumer({
    kafka: createKafkaClient(config.kafka, log),
    topic: config.kafka.topic,
    groupId,
    start: config.kafka.start,
    sessionTimeoutMs: config.kafka.sessionTimeoutMs,
    applier,
    lagIntervalMs: config.lag.intervalMs,
    log,
    metrics,
  });
  return { consumer, applier, sink, groupId };
}
