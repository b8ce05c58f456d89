/**
 * Child process of bench/kafka.bench.ts: a Kafka tailer built as `cachetail tail` will build it
 * (createKafkaTailer from configs parsed by the real schemas, with its metrics), in its own process so
 * the benchmark's reader does not share its event loop. Sends {type:'ready'} once streaming; on 'stop'
 * (or SIGTERM) stops, writes its checkpoint, sends {type:'stopped', published, failedSends} and exits.
 * A second start with the same stateDir resumes from its checkpoint (the backlog phase).
 */
import { Registry } from 'prom-client';
import { tailerConfigSchema } from '../../src/config/schema.js';
import { createLogger } from '../../src/observability/logger.js';
import { kafkaConfigSchema } from '../../src/sinks/kafka/config.js';
import { createKafkaMetrics } from '../../src/sinks/kafka/metrics.js';
import { createKafkaTailer } from '../../src/wiring/kafka-tailer.js';
import type { SourceInfo } from './tailer-harness.js';

export interface KafkaTailerArgs {
  source: SourceInfo;
  /** The id the Kafka tailer registers with. */
  serverId: number;
  memcached: string;
  stateDir: string;
  brokers: string[];
  topic: string;
}

const args = JSON.parse(process.argv[2] ?? '{}') as KafkaTailerArgs;
const base = tailerConfigSchema.parse({
  region: 'bench',
  source: { ...args.source, serverId: args.serverId - 1, heartbeatMs: 1_000 },
  memcached: { servers: [args.memcached] },
  stateDir: args.stateDir,
});
const kafka = kafkaConfigSchema.parse({ enabled: true, brokers: args.brokers, topic: args.topic });
const log = createLogger('warn', { write: (s: string) => void process.stderr.write(s) });
const { tailer, sink } = createKafkaTailer({ ...base, kafka }, log, createKafkaMetrics(new Registry()));
await tailer.start();
process.send?.({ type: 'ready' });

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await tailer.stop();
  await sink.close();
  process.send?.(
    { type: 'stopped', published: sink.stats.published, failedSends: sink.stats.failedSends },
    () => process.exit(0),
  );
};
process.on('message', (m: { type?: string }) => {
  if (m.type === 'stop') void stop();
});
process.on('SIGTERM', () => void stop());
