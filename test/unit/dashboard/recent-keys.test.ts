/** The recent-keys ring and the sink observation that feeds it. */
import { describe, expect, it } from 'vitest';
import { RecentKeys, recordDeliveries } from '../../../src/dashboard/index.js';
import type { CommittedTransaction, InvalidationBatch, Sink } from '../../../src/sinks/sink.js';

const txn = (
  gtid: string,
  keys: string[],
  extra: Partial<CommittedTransaction> = {},
): CommittedTransaction => ({
  gtid,
  file: 'mysql-bin.000001',
  nextPosition: 100,
  serverId: 1,
  commitTimeMs: 1_000,
  keys,
  ...extra,
});

const batch = (...transactions: CommittedTransaction[]): InvalidationBatch => ({
  transactions,
  keys: [...new Set(transactions.flatMap((t) => t.keys))],
});

class FakeSink implements Sink {
  readonly name = 'fake';
  readonly seen: string[][] = [];
  fail = false;
  deliver(b: InvalidationBatch, _signal?: AbortSignal): Promise<void> {
    this.seen.push([...b.keys]);
    return this.fail ? Promise.reject(new Error('memcached down')) : Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

describe('RecentKeys', () => {
  it('keeps the last `capacity` keys, newest first, and counts all', () => {
    const ring = new RecentKeys(3);
    ring.addBatch(batch(txn('0-1-1', ['a', 'b']), txn('0-1-2', ['c'], { writerTimeMs: 900 })), 2_000);
    ring.addBatch(batch(txn('0-1-3', ['d'])), 3_000);
    expect(ring.recorded).toBe(4);
    expect(ring.list()).toEqual([
      { key: 'd', gtid: '0-1-3', commitTimeMs: 1_000, writerTimeMs: null, acknowledgedAt: 3_000 },
      { key: 'c', gtid: '0-1-2', commitTimeMs: 1_000, writerTimeMs: 900, acknowledgedAt: 2_000 },
      { key: 'b', gtid: '0-1-1', commitTimeMs: 1_000, writerTimeMs: null, acknowledgedAt: 2_000 },
    ]);
    expect(ring.list(1).map((k) => k.key)).toEqual(['d']);
  });

  it("records a spilled transaction's chunk keys from the batch", () => {
    const ring = new RecentKeys(10);
    const spilled = txn('0-1-9', [], {
      spilled: { count: 2, batches: async function* () {}, discard: () => undefined },
    });
    ring.addBatch({ transactions: [spilled], keys: ['big:1', 'big:2'] }, 5);
    expect(ring.list().map((k) => [k.key, k.gtid])).toEqual([
      ['big:2', '0-1-9'],
      ['big:1', '0-1-9'],
    ]);
  });

  it('refuses a capacity below 1', () => {
    expect(() => new RecentKeys(0)).toThrow(
      expect.objectContaining({ code: 'INTERNAL', message: 'RecentKeys: capacity must be ≥ 1, got 0' }),
    );
  });
});

describe('recordDeliveries', () => {
  it('records a batch only after the sink acknowledged it, and can be undone', async () => {
    const sink = new FakeSink();
    const ring = new RecentKeys();
    const restore = recordDeliveries(sink, ring, () => 42);
    const signal = new AbortController().signal;

    sink.fail = true;
    await expect(sink.deliver(batch(txn('0-1-1', ['lost'])), signal)).rejects.toThrow('memcached down');
    expect(ring.recorded).toBe(0);

    sink.fail = false;
    await sink.deliver(batch(txn('0-1-2', ['user:1'])), signal);
    expect(ring.list()).toEqual([
      { key: 'user:1', gtid: '0-1-2', commitTimeMs: 1_000, writerTimeMs: null, acknowledgedAt: 42 },
    ]);
    expect(sink.seen).toEqual([['lost'], ['user:1']]);

    restore();
    expect(Object.hasOwn(sink, 'deliver')).toBe(false);
    await sink.deliver(batch(txn('0-1-3', ['user:2'])), signal);
    expect(ring.recorded).toBe(1);
  });
});
