/** The consumer's Applier with a recording sink: deletes, then commits; de-dup by event id; malformed. */
import { describe, expect, it } from 'vitest';
import { Applier, type RawRecord } from '../../../src/consumer/apply.js';
import { EventWindow } from '../../../src/consumer/dedup.js';
import { createLogger } from '../../../src/observability/logger.js';
import { invalidationRecord, invalidationsOf } from '../../../src/sinks/kafka/messages.js';
import type { InvalidationBatch, Sink } from '../../../src/sinks/sink.js';
import { txn } from './fakes.js';

class Recorder implements Sink {
  readonly name = 'recorder';
  readonly events: string[] = [];
  fail = false;
  deliver(batch: InvalidationBatch): Promise<void> {
    if (this.fail) return Promise.reject(new Error('memcached down'));
    this.events.push(`delete ${batch.keys.join(',')}`);
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const ctx = { region: 'eu', source: { flavor: 'mariadb' as const, serverId: 2, address: 'r:1' } };
let offset = 0;
function records(n: number, keys: string[]): RawRecord[] {
  const t = txn(n, keys);
  return invalidationsOf(t, keys, 0, keys.length, ctx).map((inv) => {
    const r = invalidationRecord(inv);
    return { offset: String(offset++), value: Buffer.from(r.value), headers: r.headers };
  });
}

function applier(
  sink: Sink,
  opts: { maxKeys?: number; onMalformed?: 'stop' | 'skip'; window?: number } = {},
) {
  return new Applier({
    sink,
    window: new EventWindow(opts.window ?? 100),
    maxKeys: opts.maxKeys ?? 1_000,
    onMalformed: opts.onMalformed ?? 'stop',
    log: createLogger('silent'),
  });
}

describe('Applier', () => {
  it('deletes, then commits the offset after the last record; repeats are dropped by event id', async () => {
    offset = 100;
    const sink = new Recorder();
    const a = applier(sink);
    const first = records(1, ['a', 'b']);
    const again = first.map((r, i) => ({ ...r, offset: String(102 + i) })); // the publisher re-sent them
    const next = records(2, ['a']);
    next.forEach((r, i) => (r.offset = String(104 + i)));
    const log = (e: string): void => void sink.events.push(e);
    await a.apply(
      [...first, ...again, ...next],
      (o) => Promise.resolve(log(`commit ${o}`)),
      new AbortController().signal,
    );
    expect(sink.events).toEqual(['delete a,b', 'commit 105']);
    expect(a.stats).toEqual({
      messages: 5,
      applied: 3,
      duplicates: 2,
      malformed: 0,
      keysDeleted: 2,
      commits: 1,
    });
    // A repeat arriving in a later fetch is dropped too.
    await a.apply(
      first.map((r) => ({ ...r, offset: '200' })),
      (o) => Promise.resolve(log(`commit ${o}`)),
      new AbortController().signal,
    );
    expect(sink.events.slice(2)).toEqual(['commit 201']);
  });

  it('steps of maxKeys: each step deleted, then committed, in order', async () => {
    offset = 0;
    const sink = new Recorder();
    const rs = records(3, ['a', 'b', 'c', 'd', 'e']);
    await applier(sink, { maxKeys: 2 }).apply(
      rs,
      (o) => Promise.resolve(void sink.events.push(`commit ${o}`)),
      new AbortController().signal,
    );
    expect(sink.events).toEqual(['delete a,b', 'commit 2', 'delete c,d', 'commit 4', 'delete e', 'commit 5']);
  });

  it('a failed delete commits nothing and forgets nothing', async () => {
    offset = 0;
    const sink = new Recorder();
    const a = applier(sink);
    const rs = records(4, ['a']);
    sink.fail = true;
    const commits: string[] = [];
    await expect(
      a.apply(rs, (o) => Promise.resolve(void commits.push(o)), new AbortController().signal),
    ).rejects.toThrow('memcached down');
    sink.fail = false;
    await a.apply(rs, (o) => Promise.resolve(void commits.push(o)), new AbortController().signal);
    expect(sink.events).toEqual(['delete a']);
    expect(commits).toEqual(['1']);
  });

  it('malformed, "stop": what came before is applied and committed, then it stops at the bad offset', async () => {
    offset = 0;
    const sink = new Recorder();
    const good = records(5, ['a']);
    const bad: RawRecord = { offset: '1', value: Buffer.from('not protobuf \xff'), headers: {} };
    const after = records(6, ['b']);
    after[0].offset = '2';
    const commits: string[] = [];
    await expect(
      applier(sink).apply(
        [...good, bad, ...after],
        (o) => Promise.resolve(void commits.push(o)),
        new AbortController().signal,
      ),
    ).rejects.toMatchObject({ code: 'MALFORMED_MESSAGE', message: expect.stringContaining('offset 1:') });
    expect(sink.events).toEqual(['delete a']);
    expect(commits).toEqual(['1']);
  });

  it('malformed, "skip": counted, skipped, committed past', async () => {
    offset = 0;
    const sink = new Recorder();
    const a = applier(sink, { onMalformed: 'skip' });
    const bad: RawRecord = { offset: '0', value: null };
    const after = records(7, ['b']);
    after[0].offset = '1';
    const commits: string[] = [];
    await a.apply(
      [bad, ...after],
      (o) => Promise.resolve(void commits.push(o)),
      new AbortController().signal,
    );
    expect(sink.events).toEqual(['delete b']);
    expect(commits).toEqual(['2']);
    expect(a.stats.malformed).toBe(1);
  });
});

describe('EventWindow', () => {
  it('remembers the last `capacity` ids', () => {
    const w = new EventWindow(2);
    w.add('a');
    w.add('b');
    w.add('a'); // refreshed
    w.add('c'); // evicts b
    expect([w.has('a'), w.has('b'), w.has('c'), w.size]).toEqual([true, false, true, 2]);
    const off = new EventWindow(0);
    off.add('x');
    expect(off.has('x')).toBe(false);
  });
});
