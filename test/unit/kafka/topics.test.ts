/** `kafka init` logic with a recording admin: create missing topics, leave existing ones, report differences. */
import { describe, expect, it } from 'vitest';
import { kafkaConfigSchema } from '../../../src/sinks/kafka/config.js';
import {
  ensureTopics,
  topicSpecs,
  type TopicAdmin,
  type TopicDescription,
  type TopicSpec,
} from '../../../src/sinks/kafka/topics.js';

class FakeAdmin implements TopicAdmin {
  readonly created: string[] = [];
  constructor(readonly topics = new Map<string, TopicDescription>()) {}
  describe(topic: string): Promise<TopicDescription | null> {
    return Promise.resolve(this.topics.get(topic) ?? null);
  }
  create(spec: TopicSpec): Promise<boolean> {
    this.created.push(spec.topic);
    this.topics.set(spec.topic, {
      partitions: spec.partitions,
      replicationFactor: spec.replicationFactor,
      configs: spec.configs,
    });
    return Promise.resolve(true);
  }
}

const config = kafkaConfigSchema.parse({ brokers: ['k:9092'] });

describe('topic settings and init', () => {
  it('states the settings of both topics', () => {
    expect(topicSpecs(config)).toEqual([
      {
        topic: 'cache-invalidations',
        partitions: 12,
        replicationFactor: 3,
        configs: {
          'cleanup.policy': 'delete',
          'retention.ms': '604800000',
          'min.insync.replicas': '2',
          'unclean.leader.election.enable': 'false',
        },
      },
      {
        topic: 'cache-invalidations-applied',
        partitions: 1,
        replicationFactor: 3,
        configs: {
          'cleanup.policy': 'compact',
          'min.insync.replicas': '2',
          'unclean.leader.election.enable': 'false',
        },
      },
    ]);
  });

  it('creates what is missing, then is idempotent', async () => {
    const admin = new FakeAdmin();
    const first = await ensureTopics(admin, topicSpecs(config));
    expect(first.map((o) => [o.topic, o.action])).toEqual([
      ['cache-invalidations', 'created'],
      ['cache-invalidations-applied', 'created'],
    ]);
    const second = await ensureTopics(admin, topicSpecs(config));
    expect(second.map((o) => [o.topic, o.action, o.action === 'exists' ? o.differences : null])).toEqual([
      ['cache-invalidations', 'exists', []],
      ['cache-invalidations-applied', 'exists', []],
    ]);
    expect(admin.created).toEqual(['cache-invalidations', 'cache-invalidations-applied']);
  });

  it('reports every difference of an existing topic and changes nothing', async () => {
    const admin = new FakeAdmin(
      new Map([
        [
          'cache-invalidations',
          {
            partitions: 1,
            replicationFactor: 1,
            configs: { 'cleanup.policy': 'delete', 'retention.ms': '604800000', 'min.insync.replicas': '1' },
          },
        ],
      ]),
    );
    const [inv] = await ensureTopics(admin, topicSpecs(config));
    expect(inv).toMatchObject({
      action: 'exists',
      differences: [
        'partitions is 1, stated 12',
        'replication.factor is 1, stated 3',
        'min.insync.replicas is 1, stated 2',
        'unclean.leader.election.enable is (unset), stated false',
      ],
    });
    expect(admin.created).toEqual(['cache-invalidations-applied']);
  });
});
