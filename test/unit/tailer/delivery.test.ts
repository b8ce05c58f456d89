/** The delivery queue with a recording sink: order, batching, acknowledgement, spills, backpressure. */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/logger.js';
import type { CommittedTransaction, InvalidationBatch, Sink } from '../../../src/sinks/sink.js';
import { DeliveryQueue } from '../../../src/tailer/delivery.js';
import { spillFactory } from '../../../src/tailer/spill.js';
import { testTempDir } from '../../helpers/temp-dir.js';

class Recorder implements Sink {
  readonly name = 'recorder';
  readonly batches: { keys: string[]; gtids: (string | undefined)[] }[] = [];
  gate: Promise<void> = Promise.resolve();
  async deliver(batch: InvalidationBatch): Promise<void> {
    await this.gate;
    this.batches.push({ keys: [...batch.keys], gtids: batch.transactions.map((t) => t.gtid) });
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function txn(n: number, keys: string[], extra: Partial<CommittedTransaction> = {}): CommittedTransaction {
  return {
    gtid: `0-1-${n}`,
    file: 'bin.1',
    nextPosition: n * 100,
    serverId: 1,
    commitTimeMs: 0,
    keys,
    ...extra,
  };
}

function queue(
  sink: Sink,
  events: string[],
  opts: { maxBatchKeys?: number; maxPending?: number; maxPendingKeys?: number } = {},
) {
  return new DeliveryQueue<number>({
    sink,
    maxBatchKeys: opts.maxBatchKeys ?? 3,
    maxPending: opts.maxPending ?? 100,
    maxPendingKeys: opts.maxPendingKeys,
    log: createLogger('silent'),
    pause: () => events.push('pause'),
    resume: () => events.push('resume'),
    onDelivered: (keys) => events.push(`delivered ${keys}`),
    onFailed: (err) => {
      throw err;
    },
  });
}

const settle = () => new Promise((r) => setTimeout(r, 20));

describe('DeliveryQueue', () => {
  it('delivers in commit order in batches of at most maxBatchKeys keys, de-duplicated within a batch', async () => {
    const sink = new Recorder();
    const q = queue(sink, [], { maxBatchKeys: 5 });
    q.reset(0);
    const running = q.run();
    let release!: () => void;
    sink.gate = new Promise((r) => (release = r));
    q.push(txn(1, ['a', 'b']), 1);
    q.push(txn(2, ['b', 'c']), 2);
    q.push(txn(3, ['d', 'e', 'f']), 3);
    q.push(txn(4, []), 4);
    release();
    await q.drain(1_000);
    await running;
    expect(sink.batches).toEqual([
      { keys: ['a', 'b', 'c'], gtids: ['0-1-1', '0-1-2'] },
      { keys: ['d', 'e', 'f'], gtids: ['0-1-3'] },
    ]);
    expect(q.acknowledged).toBe(4);
  });

  it('never acknowledges past an undelivered transaction; keyless ones move it when nothing waits', async () => {
    const sink = new Recorder();
    let release!: () => void;
    sink.gate = new Promise((r) => (release = r));
    const q = queue(sink, []);
    q.reset(0);
    q.push(txn(1, []), 1);
    expect(q.acknowledged).toBe(1);
    const running = q.run();
    q.push(txn(2, ['k']), 2);
    q.push(txn(3, []), 3);
    await settle();
    expect(q.acknowledged).toBe(1);
    release();
    await q.drain(1_000);
    await running;
    expect(q.acknowledged).toBe(3);
  });

  it('pauses reading at maxPendingKeys and resumes at half', async () => {
    const sink = new Recorder();
    let release!: () => void;
    sink.gate = new Promise((r) => (release = r));
    const events: string[] = [];
    const q = queue(sink, events, { maxBatchKeys: 100, maxPendingKeys: 4 });
    q.reset(0);
    const running = q.run();
    q.push(txn(1, ['a', 'b']), 1);
    q.push(txn(2, ['c', 'd']), 2);
    expect(events).toEqual(['pause']);
    release();
    await q.drain(1_000);
    await running;
    expect(events).toEqual(['pause', 'delivered 4', 'resume']);
  });

  it('delivers a spilled transaction alone, in chunks, and acknowledges it after the last chunk', async () => {
    const dir = testTempDir('cachetail-spill-');
    const spill = spillFactory(dir)();
    for (let i = 0; i < 7; i++) spill.append(`big:${i}`);
    spill.seal();
    const sink = new Recorder();
    const events: string[] = [];
    const q = queue(sink, events);
    q.reset(0);
    const running = q.run();
    q.push(txn(1, ['x']), 1);
    q.push(txn(2, [], { spilled: spill }), 2);
    q.push(txn(3, ['y']), 3);
    await q.drain(1_000);
    await running;
    expect(sink.batches).toEqual([
      { keys: ['x'], gtids: ['0-1-1'] },
      { keys: ['big:0', 'big:1', 'big:2'], gtids: ['0-1-2'] },
      { keys: ['big:3', 'big:4', 'big:5'], gtids: ['0-1-2'] },
      { keys: ['big:6'], gtids: ['0-1-2'] },
      { keys: ['y'], gtids: ['0-1-3'] },
    ]);
    expect(events).toEqual(['delivered 1', 'delivered 7', 'delivered 1']);
    expect(q.acknowledged).toBe(3);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a new spill factory removes spill files a crashed process left behind', () => {
    const dir = testTempDir('cachetail-spill-');
    const left = spillFactory(dir)();
    left.append('k');
    left.seal();
    expect(readdirSync(dir)).toHaveLength(1);
    spillFactory(dir);
    expect(readdirSync(dir)).toEqual([]);
  });
});
