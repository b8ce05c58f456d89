/** The kafka config section and the consumer config: defaults, refusals, env. */
import { describe, expect, it } from 'vitest';
import { consumerConfigSchema, loadConsumerConfig } from '../../../src/consumer/config.js';
import { edgeConfigSchema } from '../../../src/config/edge.js';
import { loadConfig } from '../../../src/config/load.js';
import { tailerConfigSchema } from '../../../src/config/schema.js';
import { kafkaConfigSchema, kafkaEnvPaths } from '../../../src/sinks/kafka/config.js';
import { kafkajsConfig } from '../../../src/sinks/kafka/client.js';
import { createLogger } from '../../../src/observability/logger.js';
import { z } from 'zod';

describe('kafka config section', () => {
  it('is off by default with stated defaults', () => {
    expect(kafkaConfigSchema.parse({})).toEqual({
      enabled: false,
      brokers: [],
      clientId: 'cachetail',
      connectTimeoutMs: 3_000,
      requestTimeoutMs: 30_000,
      topic: 'cache-invalidations',
      appliedTopic: 'cache-invalidations-applied',
      producer: { compression: 'none', maxBatchKeys: 1_000, retryBackoff: { initialMs: 200, maxMs: 10_000 } },
      applied: { enabled: true, intervalMs: 1_000, heartbeatMs: 30_000 },
      topics: { partitions: 12, replicationFactor: 3, minInsyncReplicas: 2, retentionMs: 604_800_000 },
    });
  });

  it('refuses: enabled without brokers, plain SASL without TLS, a bad topic name, min ISR above the replicas', () => {
    const issues = (input: unknown) =>
      kafkaConfigSchema.safeParse(input).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues({ enabled: true })).toEqual(['brokers: kafka.enabled needs at least one broker']);
    expect(issues({ brokers: ['k:1'], sasl: { mechanism: 'plain', username: 'u', password: 'p' } })).toEqual([
      'sasl.mechanism: sasl.mechanism "plain" sends the password in clear: enable ssl (or use scram-sha-512)',
    ]);
    expect(issues({ topic: 'bad topic' })).toEqual(['topic: a topic name is 1-249 of [A-Za-z0-9._-]']);
    expect(issues({ topics: { replicationFactor: 1, minInsyncReplicas: 2 } })).toEqual([
      'topics.minInsyncReplicas: minInsyncReplicas cannot exceed replicationFactor',
    ]);
    expect(
      issues({
        brokers: ['k:1'],
        ssl: { enabled: true },
        sasl: { mechanism: 'plain', username: 'u', password: 'p' },
      }),
    ).toBeUndefined();
  });

  it('comes from CACHETAIL_KAFKA_* env vars into the kafkajs client config (TLS verified by default)', () => {
    const { kafka } = loadConfig({
      schema: z.object({ kafka: kafkaConfigSchema.prefault({}) }),
      envPaths: kafkaEnvPaths(),
      env: {
        CACHETAIL_KAFKA_ENABLED: 'true',
        CACHETAIL_KAFKA_BROKERS: 'a:9092, b:9092',
        CACHETAIL_KAFKA_SSL_ENABLED: '1',
        CACHETAIL_KAFKA_SASL_MECHANISM: 'scram-sha-512',
        CACHETAIL_KAFKA_SASL_USERNAME: 'cachetail',
        CACHETAIL_KAFKA_SASL_PASSWORD: 's3cret',
      },
    });
    expect([
      kafka.enabled,
      kafka.brokers,
      kafka.ssl?.enabled,
      kafka.ssl?.rejectUnauthorized,
      kafka.sasl?.mechanism,
    ]).toEqual([true, ['a:9092', 'b:9092'], true, true, 'scram-sha-512']);
    const cfg = kafkajsConfig(kafka, createLogger('silent'));
    expect(cfg.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'cachetail', password: 's3cret' });
    expect(cfg.ssl).toEqual({ rejectUnauthorized: true });
  });
});

describe('consumer config', () => {
  it('listens by default on a port of its own: not the tailer status nor an edge listener', () => {
    const port = (listener: z.ZodType) => (listener.parse(undefined) as { port: number }).port;
    const defaults = {
      consumer: port(consumerConfigSchema.shape.status),
      tailer: port(tailerConfigSchema.shape.status),
      edgeProxy: port(edgeConfigSchema.shape.listen),
      edgeAdmin: port(edgeConfigSchema.shape.admin),
    };
    expect(defaults).toEqual({ consumer: 9466, tailer: 9464, edgeProxy: 8080, edgeAdmin: 9465 });
    expect(new Set(Object.values(defaults)).size).toBe(4);
  });

  it('needs brokers and memcached servers; defaults to earliest, de-dup on, stop on malformed, loopback status', () => {
    expect(consumerConfigSchema.safeParse({}).success).toBe(false);
    const c = loadConsumerConfig(undefined, {
      CACHETAIL_KAFKA_BROKERS: '127.0.0.1:9092',
      CACHETAIL_MEMCACHED_SERVERS: '127.0.0.1:11211,127.0.0.1:11212',
      CACHETAIL_MEMCACHED_HASHING: 'ketama',
      CACHETAIL_REGION: 'edge-1',
    });
    expect({
      region: c.region,
      topic: c.kafka.topic,
      start: c.kafka.start,
      servers: c.memcached.servers,
      hashing: c.memcached.hashing,
      dedup: c.dedup.windowSize,
      onMalformed: c.onMalformed,
      status: c.status,
    }).toEqual({
      region: 'edge-1',
      topic: 'cache-invalidations',
      start: 'earliest',
      servers: ['127.0.0.1:11211', '127.0.0.1:11212'],
      hashing: 'ketama',
      dedup: 100_000,
      onMalformed: 'stop',
      status: { host: '127.0.0.1', port: 9466 },
    });
  });
});
