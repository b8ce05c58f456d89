/** The Kafka sink with a recording producer: exact records in commit order, retries, abort, spills. */
import { describe, expect, it } from 'vitest';
import { decodeInvalidation } from '../../../src/sinks/kafka/messages.js';
import { KafkaSink } from '../../../src/sinks/kafka/sink.js';
import { createLogger } from '../../../src/observability/logger.js';
import type { SpilledKeys } from '../../../src/sinks/sink.js';
import { RecordingProducer, txn } from './fakes.js';

const log = createLogger('silent');

function sink(producer: RecordingProducer, opts: { max?: number } = {}) {
  return new KafkaSink({
    producer,
    topic: 'cache-invalidations',
    region: 'eu',
    source: () => ({ flavor: 'mariadb', serverId: 2, address: '127.0.0.1:3307' }),
    log,
    maxRecordsPerSend: opts.max ?? 1_000,
    backoff: { initialMs: 1, maxMs: 4 },
  });
}

const ids = (p: RecordingProducer) => p.records.map((r) => decodeInvalidation(Buffer.from(r.value)).eventId);

describe('KafkaSink', () => {
  it('publishes one record per key of every transaction, in commit order, in one send', async () => {
    const p = new RecordingProducer();
    const a = txn(1, ['user:1', 'user:2']);
    const b = txn(2, ['user:1']);
    await sink(p).deliver({ transactions: [a, b], keys: ['user:1', 'user:2'] }, new AbortController().signal);
    expect(p.sends.map((s) => [s.topic, s.records.map((r) => r.key)])).toEqual([
      ['cache-invalidations', ['user:1', 'user:2', 'user:1']],
    ]);
    expect(ids(p)).toEqual(['gtid:0-1-1#0', 'gtid:0-1-1#1', 'gtid:0-1-2#0']);
  });

  it('splits a large batch into sends of maxRecordsPerSend, in order', async () => {
    const p = new RecordingProducer();
    const t = txn(3, ['a', 'b', 'c', 'd', 'e']);
    await sink(p, { max: 2 }).deliver({ transactions: [t], keys: t.keys }, new AbortController().signal);
    expect(p.sends.map((s) => s.records.map((r) => r.key))).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('retries the same records until the broker acknowledges them; never drops, never reorders', async () => {
    const p = new RecordingProducer();
    const s = sink(p);
    p.failNext(4);
    const t = txn(4, ['k1', 'k2']);
    await s.deliver({ transactions: [t], keys: t.keys }, new AbortController().signal);
    expect(p.attempts).toBe(5);
    expect(p.sends.map((x) => x.records.map((r) => r.key))).toEqual([['k1', 'k2']]);
    expect(s.stats).toEqual({ published: 2, sends: 1, failedSends: 4, failing: null });
  });

  it('an abort ends the retries with the abort reason; nothing counted as published', async () => {
    const p = new RecordingProducer();
    const s = sink(p);
    p.failNext(1_000_000);
    const ac = new AbortController();
    const t = txn(5, ['k']);
    const delivering = s.deliver({ transactions: [t], keys: t.keys }, ac.signal);
    setTimeout(() => ac.abort(new Error('tailer stopped')), 30);
    await expect(delivering).rejects.toThrow('tailer stopped');
    expect(p.sends).toEqual([]);
    expect(s.stats.published).toBe(0);
    expect(s.stats.failing).toContain('ECONNREFUSED');
  });

  it('a spilled transaction arrives in chunks: key indexes continue from chunk to chunk', async () => {
    const p = new RecordingProducer();
    const s = sink(p);
    const spilled: SpilledKeys = {
      count: 5,
      batches: async function* () {},
      discard: () => undefined,
    };
    const big = txn(6, [], { spilled });
    const signal = new AbortController().signal;
    await s.deliver({ transactions: [big], keys: ['a', 'b', 'c'] }, signal);
    await s.deliver({ transactions: [big], keys: ['d', 'e'] }, signal);
    const next = txn(7, ['z']);
    await s.deliver({ transactions: [next], keys: ['z'] }, signal);
    expect(ids(p)).toEqual([
      'gtid:0-1-6#0',
      'gtid:0-1-6#1',
      'gtid:0-1-6#2',
      'gtid:0-1-6#3',
      'gtid:0-1-6#4',
      'gtid:0-1-7#0',
    ]);
    expect(p.records.slice(0, 5).map((r) => decodeInvalidation(Buffer.from(r.value)).keyCount)).toEqual([
      5, 5, 5, 5, 5,
    ]);
  });

  it('close closes the producer', async () => {
    const p = new RecordingProducer();
    await sink(p).close();
    expect(p.closed).toBe(true);
  });
});
