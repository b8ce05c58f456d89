/**
 * Kafka in the demo, when the machine can run it: the devcluster's single-node broker and a second
 * tailer that publishes every invalidation to the `cache-invalidations` topic (src/wiring/kafka-tailer.ts).
 * Optional by design: it needs a JRE and the broker jars (Maven, or a previous run's .cache/), costs about
 * 400 MB, and nothing else in the demo depends on it — so it starts in the background after everything
 * else and is skipped, with the reason printed, when it cannot start.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TailerConfig } from '../config/schema.js';
import type { DashboardState } from '../dashboard/index.js';
import { DevclusterError, ensureKafka, type ClusterInfo } from '../devcluster/index.js';
import { requireBinary } from '../devcluster/proc.js';
import { CachetailError, errorMessage } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { createKafkaClient } from '../sinks/kafka/client.js';
import { kafkaConfigSchema } from '../sinks/kafka/config.js';
import { ensureTopics, kafkajsTopicAdmin, topicSpecs } from '../sinks/kafka/topics.js';
import { createKafkaTailer } from '../wiring/kafka-tailer.js';
import { tailerStatus } from '../tailer/status.js';
import type { Tailer } from '../tailer/tailer.js';

export interface DemoKafka {
  status(): DashboardState['kafka'];
  stop(): Promise<void>;
}

/** Why Kafka cannot run here, or null when it can be tried. */
export function kafkaUnavailable(repoRoot: string): string | null {
  try {
    requireBinary('java', '');
  } catch (err) {
    if (err instanceof DevclusterError) return 'no Java runtime (apt-get install -y default-jre-headless)';
    throw err;
  }
  if (existsSync(join(repoRoot, '.cache', 'kafka', 'lib'))) return null;
  try {
    requireBinary('mvn', '');
    return null;
  } catch (err) {
    if (err instanceof DevclusterError)
      return 'no Kafka jars in .cache/ and no Maven to fetch them (apt-get install -y maven)';
    throw err;
  }
}

/**
 * Starts the broker and the publishing tailer. Resolves once publishing has started; rejects (after
 * cleaning up what it started) when it cannot. The broker is in the cluster's PID registry, so the
 * cluster's stop() ends it in any case.
 */
export async function startDemoKafka(
  info: Pick<ClusterInfo, 'baseDir'>,
  config: TailerConfig,
  log: Logger,
  opts: { topic?: string } = {},
): Promise<DemoKafka> {
  const { brokers } = await ensureKafka(info);
  const kafka = kafkaConfigSchema.parse({
    enabled: true,
    brokers,
    clientId: 'cachetail-demo',
    ...(opts.topic ? { topic: opts.topic, appliedTopic: `${opts.topic}-applied` } : {}),
    // One broker: one copy of everything.
    topics: { partitions: 1, replicationFactor: 1, minInsyncReplicas: 1 },
  });
  // What `cachetail kafka init` does: the producer does not create topics, it waits for them.
  const admin = createKafkaClient(kafka, log).admin();
  await admin.connect();
  try {
    await ensureTopics(kafkajsTopicAdmin(admin), topicSpecs(kafka));
  } finally {
    await admin.disconnect();
  }
  const { tailer, sink, checkpointPath } = createKafkaTailer({ ...config, kafka }, log);
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // A short drain: the demo's messages are a handful, and Ctrl-C should not wait for a stuck broker.
    await tailer.stop(2_000).catch(() => undefined);
    await sink.close().catch(() => undefined);
  };
  try {
    await tailer.start();
  } catch (err) {
    await stop();
    throw new CachetailError('START_FAILED', `the Kafka tailer did not start: ${errorMessage(err)}`, {
      retryable: false,
      cause: err,
    });
  }
  return {
    status: () => kafkaView(tailer, config.region, checkpointPath, brokers, kafka.topic),
    stop,
  };
}

function kafkaView(
  tailer: Tailer,
  region: string,
  checkpointPath: string,
  brokers: string[],
  topic: string,
): DashboardState['kafka'] {
  const s = tailerStatus(tailer, region, checkpointPath);
  return { state: s.state, brokers, topic, watermark: s.watermark?.gtid ?? null };
}
