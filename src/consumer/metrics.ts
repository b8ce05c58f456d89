/**
 * Metrics of `cachetail consume`, on a registry passed in. Partition labels come from the topic's
 * partition count (fixed by configuration), so the series count is bounded. Meaning: docs/kafka.md.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { LATENCY_BUCKETS } from '../observability/metrics.js';

export const MESSAGE_RESULTS = ['applied', 'duplicate', 'malformed'] as const;
export type MessageResult = (typeof MESSAGE_RESULTS)[number];

export interface ConsumerMetrics {
  messages(result: MessageResult, n?: number): void;
  keysDeleted(n: number): void;
  committed(): void;
  /** Binlog commit time → this tier's delete acknowledged, per message (seconds). */
  applyLatency(seconds: number): void;
  lag(partition: number, messages: number): void;
}

export function createConsumerMetrics(registry: Registry): ConsumerMetrics {
  const registers = [registry];
  const messages = new Counter({
    name: 'cachetail_consumer_messages_total',
    help: 'Invalidation messages read, by result (applied, duplicate = dropped by event id, malformed).',
    labelNames: ['result'],
    registers,
  });
  const keys = new Counter({
    name: 'cachetail_consumer_keys_deleted_total',
    help: 'Keys whose delete the memcached tier acknowledged (or journaled).',
    registers,
  });
  const commits = new Counter({
    name: 'cachetail_consumer_commits_total',
    help: 'Offset commits (each after the deletes before it were acknowledged).',
    registers,
  });
  const latency = new Histogram({
    name: 'cachetail_consumer_apply_latency_seconds',
    help: 'Binlog commit time (1 s precision) to the delete acknowledged by this tier, per message.',
    buckets: [...LATENCY_BUCKETS],
    registers,
  });
  const lag = new Gauge({
    name: 'cachetail_consumer_lag_messages',
    help: "Messages in the partition after the group's committed offset (log end offset minus committed).",
    labelNames: ['partition'],
    registers,
  });
  for (const result of MESSAGE_RESULTS) messages.inc({ result }, 0);
  keys.inc(0);
  commits.inc(0);
  return {
    messages: (result, n = 1) => messages.inc({ result }, n),
    keysDeleted: (n) => keys.inc(n),
    committed: () => commits.inc(),
    applyLatency: (s) => latency.observe(Math.max(0, s)),
    lag: (partition, n) => lag.set({ partition: String(partition) }, n),
  };
}
