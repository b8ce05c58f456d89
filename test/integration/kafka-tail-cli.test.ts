/**
 * `cachetail tail` with Kafka enabled (env only): one process runs both tailers — memcached deletes and
 * the Kafka topic — from one replica, each with its own checkpoint file.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import memjs from 'memjs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { clusterControl, ensureKafka } from '../../src/devcluster/index.js';
import { spawnTailer, type TailerProcess } from '../helpers/tailer-process.js';
import { waitFor } from '../helpers/wait.js';
import { CREATE_TABLE, TopicReader, createTopics, uniqueTopic, writeTransaction } from './kafka-support.js';

const info = inject('cluster');
const cluster = clusterControl(info);
const cache = memjs.Client.create(info.memcached.replica, { logger: { log: () => undefined } });
const stateDir = mkdtempSync(join(info.baseDir, 'tail-kafka-'));
const topic = uniqueTopic('tail-cli');
let proc: TailerProcess;
let reader: TopicReader;

beforeAll(async () => {
  const { brokers } = await ensureKafka(info);
  await createTopics(brokers, topic);
  await cluster.query('primary', CREATE_TABLE);
  await cluster.waitForReplicaCatchUp();
  proc = spawnTailer(info, {
    CACHETAIL_STATE_DIR: stateDir,
    CACHETAIL_SOURCE_SERVER_ID: '7990',
    CACHETAIL_KAFKA_ENABLED: 'true',
    CACHETAIL_KAFKA_BROKERS: brokers.join(','),
    CACHETAIL_KAFKA_TOPIC: topic,
    CACHETAIL_KAFKA_APPLIED_TOPIC: `${topic}-applied`,
  });
  await waitFor(
    'both checkpoints',
    () =>
      existsSync(join(stateDir, 'checkpoint.json')) && existsSync(join(stateDir, 'checkpoint-kafka.json'))
        ? true
        : undefined,
    30_000,
  ).catch((e: Error) => {
    throw new Error(`${e.message}\n${proc.output()}`);
  });
  reader = await TopicReader.start(brokers, topic);
});

afterAll(async () => {
  if (proc && proc.child.exitCode === null) {
    proc.child.kill('SIGTERM');
    await proc.exited;
  }
  await reader?.stop();
  cache.close();
});

describe('cachetail tail with kafka.enabled', () => {
  it('deletes from memcached and publishes each key on the topic', async () => {
    await cache.set('cli:k1', 'stale', {});
    const conn = await cluster.connect('primary');
    let written;
    try {
      written = await writeTransaction(conn, [['cli:k1', 'cli:k2']]);
    } finally {
      await conn.end();
    }
    await waitFor('the memcached delete', async () => ((await cache.get('cli:k1')).value ? undefined : true));
    await reader.waitForIds(written.ids, 'the published invalidations');
    const mine = reader.records.filter((r) => written.ids.includes(r.inv.eventId));
    expect(mine.map((r) => [r.key, r.inv.gtid]).sort()).toEqual([
      ['cli:k1', written.gtid],
      ['cli:k2', written.gtid],
    ]);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  });
});
