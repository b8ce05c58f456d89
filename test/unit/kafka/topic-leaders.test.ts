/**
 * Waiting for a new topic's partition leaders: answers that only mean "not yet" (the broker has not
 * applied the topic, or no leader is elected) are waited through; anything else is an error at once.
 */
import type { Admin } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { waitForTopicLeaders } from '../../../src/sinks/kafka/topics.js';

type Answer = { leaders: number[] } | { error: string };

function admin(answers: Answer[]): Pick<Admin, 'fetchTopicMetadata'> & { calls: number } {
  const fake = {
    calls: 0,
    fetchTopicMetadata: ({ topics }: { topics?: string[] } = {}) => {
      fake.calls++;
      const a = answers.shift() ?? { error: 'NO_MORE_ANSWERS' };
      if ('error' in a) {
        return Promise.reject(Object.assign(new Error(`protocol error ${a.error}`), { type: a.error }));
      }
      return Promise.resolve({
        topics: [
          {
            name: topics?.[0] ?? '',
            partitions: a.leaders.map((leader, partitionId) => ({
              partitionErrorCode: 0,
              partitionId,
              leader,
              replicas: [1],
              isr: [1],
              offlineReplicas: [],
            })),
          },
        ],
      });
    },
  };
  return fake;
}

describe('waitForTopicLeaders', () => {
  it('waits through UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE and leaderless partitions', async () => {
    const a = admin([
      { error: 'UNKNOWN_TOPIC_OR_PARTITION' },
      { error: 'LEADER_NOT_AVAILABLE' },
      { leaders: [1, -1, 1] },
      { leaders: [1, 1] },
      { leaders: [1, 1, 1] },
    ]);
    await waitForTopicLeaders(a, 't', 3, { intervalMs: 1 });
    expect(a.calls).toBe(5);
  });

  it('fails at once on any other error', async () => {
    const a = admin([{ error: 'TOPIC_AUTHORIZATION_FAILED' }]);
    await expect(waitForTopicLeaders(a, 't', 1, { intervalMs: 1 })).rejects.toMatchObject({
      type: 'TOPIC_AUTHORIZATION_FAILED',
    });
    expect(a.calls).toBe(1);
  });

  it('gives up after timeoutMs, saying how far it got', async () => {
    const a = admin(Array.from({ length: 1_000 }, () => ({ leaders: [1, -1] })));
    await expect(waitForTopicLeaders(a, 't', 2, { timeoutMs: 30, intervalMs: 1 })).rejects.toMatchObject({
      code: 'KAFKA_TOPIC_LEADERS',
      message: expect.stringContaining('(1 of 2 partitions have a leader)'),
    });
  });
});
