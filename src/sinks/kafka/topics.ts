/**
 * The two topics and the settings they are created with (`cachetail kafka init`). Producers never
 * create topics (auto-creation is off in the producer), because a topic created by a broker's defaults
 * would typically have one replica and no min.insync.replicas — acks=all would then mean "one disk".
 *
 * Init is idempotent and never changes an existing topic: a missing topic is created, an existing one is
 * compared with the stated settings and every difference reported, for an operator to decide.
 */
import kafkajs, { type Admin } from 'kafkajs';
import { CachetailError } from '../../errors.js';
import type { KafkaConfig } from './config.js';

// kafkajs is CommonJS and Node's ESM loader only sees some of its exports by name; this one is not.
const { ConfigResourceTypes } = kafkajs;

export interface TopicSpec {
  topic: string;
  partitions: number;
  replicationFactor: number;
  /** Topic-level configs, as Kafka names them. */
  configs: Readonly<Record<string, string>>;
}

export interface TopicDescription {
  partitions: number;
  replicationFactor: number;
  configs: Readonly<Record<string, string>>;
}

/** What init needs from an admin client (kafkajs below; tests may record). */
export interface TopicAdmin {
  /** null when the topic does not exist. */
  describe(topic: string, configNames: readonly string[]): Promise<TopicDescription | null>;
  /** Creates it and waits for its partition leaders; false when it already existed (a race). */
  create(spec: TopicSpec): Promise<boolean>;
}

export type TopicOutcome =
  | { topic: string; action: 'created'; spec: TopicSpec }
  | { topic: string; action: 'exists'; spec: TopicSpec; differences: string[] };

export function topicSpecs(config: Pick<KafkaConfig, 'topic' | 'appliedTopic' | 'topics'>): TopicSpec[] {
  const t = config.topics;
  const durability = { 'min.insync.replicas': String(t.minInsyncReplicas) };
  return [
    {
      topic: config.topic,
      partitions: t.partitions,
      replicationFactor: t.replicationFactor,
      configs: {
        'cleanup.policy': 'delete',
        'retention.ms': String(t.retentionMs),
        ...durability,
        // Without it a broker could elect an out-of-date replica as leader and lose acknowledged writes.
        'unclean.leader.election.enable': 'false',
      },
    },
    {
      // A handful of keys (one per tailer): one partition; compaction keeps each tailer's latest state.
      topic: config.appliedTopic,
      partitions: 1,
      replicationFactor: t.replicationFactor,
      configs: {
        'cleanup.policy': 'compact',
        ...durability,
        'unclean.leader.election.enable': 'false',
      },
    },
  ];
}

export function describeSpec(spec: TopicSpec): string {
  const configs = Object.entries(spec.configs).map(([k, v]) => `${k}=${v}`);
  return `partitions=${spec.partitions} replication.factor=${spec.replicationFactor} ${configs.join(' ')}`;
}

export async function ensureTopics(admin: TopicAdmin, specs: readonly TopicSpec[]): Promise<TopicOutcome[]> {
  const outcomes: TopicOutcome[] = [];
  for (const spec of specs) {
    const names = Object.keys(spec.configs);
    const existing = await admin.describe(spec.topic, names);
    if (!existing && (await admin.create(spec))) {
      outcomes.push({ topic: spec.topic, action: 'created', spec });
      continue;
    }
    const now = existing ?? (await admin.describe(spec.topic, names));
    outcomes.push({
      topic: spec.topic,
      action: 'exists',
      spec,
      differences: now ? differences(spec, now) : [],
    });
  }
  return outcomes;
}

function differences(want: TopicSpec, have: TopicDescription): string[] {
  const out: string[] = [];
  if (have.partitions !== want.partitions)
    out.push(`partitions is ${have.partitions}, stated ${want.partitions}`);
  if (have.replicationFactor !== want.replicationFactor) {
    out.push(`replication.factor is ${have.replicationFactor}, stated ${want.replicationFactor}`);
  }
  for (const [name, value] of Object.entries(want.configs)) {
    if (have.configs[name] !== value)
      out.push(`${name} is ${have.configs[name] ?? '(unset)'}, stated ${value}`);
  }
  return out;
}

/** Metadata answers that only mean "not yet" for a topic created a moment ago. */
const NOT_YET = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE']);

/**
 * Polls the topic's metadata until every partition has a leader. kafkajs's own wait (createTopics
 * waitForLeaders) retries only LEADER_NOT_AVAILABLE, but a broker that has not yet applied the new topic
 * answers UNKNOWN_TOPIC_OR_PARTITION ("This server does not host this topic-partition") — seen on a
 * freshly started single KRaft broker — and kafkajs then fails a creation that succeeded.
 */
export async function waitForTopicLeaders(
  admin: Pick<Admin, 'fetchTopicMetadata'>,
  topic: string,
  partitions: number,
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let last = 'no metadata yet';
  for (;;) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const found = topics.find((t) => t.name === topic)?.partitions ?? [];
      if (found.length >= partitions && found.every((p) => p.leader >= 0)) return;
      last = `${found.filter((p) => p.leader >= 0).length} of ${partitions} partitions have a leader`;
    } catch (err) {
      const type = (err as { type?: unknown }).type;
      if (typeof type !== 'string' || !NOT_YET.has(type)) throw err;
      last = type;
    }
    if (Date.now() >= deadline) {
      throw new CachetailError(
        'KAFKA_TOPIC_LEADERS',
        `topic ${topic} was created but has no leader for every partition after ${timeoutMs} ms (${last})`,
      );
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}

/** TopicAdmin over a connected kafkajs admin client. */
export function kafkajsTopicAdmin(admin: Admin): TopicAdmin {
  return {
    async describe(topic, configNames) {
      if (!(await admin.listTopics()).includes(topic)) return null;
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const partitions = topics[0]?.partitions ?? [];
      const { resources } = await admin.describeConfigs({
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: [...configNames] }],
        includeSynonyms: false,
      });
      const configs: Record<string, string> = {};
      for (const e of resources[0]?.configEntries ?? []) configs[e.configName] = e.configValue;
      return {
        partitions: partitions.length,
        replicationFactor: Math.max(0, ...partitions.map((p) => p.replicas.length)),
        configs,
      };
    },
    async create(spec) {
      const created = await admin.createTopics({
        // Waited for below: kafkajs's wait gives up on an answer that only means "not yet".
        waitForLeaders: false,
        topics: [
          {
            topic: spec.topic,
            numPartitions: spec.partitions,
            replicationFactor: spec.replicationFactor,
            configEntries: Object.entries(spec.configs).map(([name, value]) => ({ name, value })),
          },
        ],
      });
      await waitForTopicLeaders(admin, spec.topic, spec.partitions);
      return created;
    },
  };
}
