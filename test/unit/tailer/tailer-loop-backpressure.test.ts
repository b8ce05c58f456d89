/**
 * Backpressure through the real Tailer loop: a sink whose acknowledgements the test gives. Reading pauses
 * once maxPendingTransactions committed transactions (or maxPendingKeys keys) wait for the sink — state
 * 'paused', readingPaused, still ready — and resumes when the sink has brought them down to half. The
 * pause holds across a reconnect (the new connection starts paused), and a link we do not read is never
 * judged dead by the liveness timeout.
 */
import { describe, expect, it } from 'vitest';
import type { LoopHarness } from './loop-harness.js';
import { elapse, loopHarnesses } from './loop-harness.js';

const harness = loopHarnesses();

/** What /status says about the pause, and the gauge. */
async function pauseView(h: LoopHarness) {
  const s = h.status();
  const gauge = (await h.metrics.registry.getSingleMetric('cachetail_reading_paused')?.get())?.values[0]
    ?.value;
  return {
    state: s.state,
    readingPaused: s.readingPaused,
    pendingTransactions: s.pendingTransactions,
    ready: h.health().readiness.ready,
    gauge,
    read: h.tailer.stats.transactions,
  };
}

/** Acknowledges the delivery in flight and lets the loop run. */
async function ack(h: LoopHarness): Promise<void> {
  h.sink.ack();
  await elapse();
}

describe('reading pauses while the sink lags', () => {
  it('at maxPendingTransactions, and resumes at half of it', async () => {
    const h = harness({ maxPendingTransactions: 3 });
    h.sink.hold = true;
    for (const k of ['a', 'b', 'c', 'd', 'e', 'f']) h.replica.commit(k);
    await h.tailer.start();
    h.conn.stream();
    await elapse();
    // a, b, c read: three waiting → paused; d, e, f stay unread on the server.
    expect(await pauseView(h)).toEqual({
      state: 'paused',
      readingPaused: true,
      pendingTransactions: 3,
      ready: true,
      gauge: 1,
      read: 3,
    });
    expect(h.conn.calls).toEqual(['pause']);
    expect(h.sink.batches).toEqual([['a']]);

    await ack(h); // a: two waiting, above half of 3
    expect(await pauseView(h)).toMatchObject({ state: 'paused', pendingTransactions: 2, read: 3 });
    expect(h.conn.calls).toEqual(['pause']);

    await ack(h); // b: one waiting → resume; d and e are read, three waiting again → paused
    expect(h.conn.calls).toEqual(['pause', 'resume', 'pause']);
    expect(await pauseView(h)).toMatchObject({ state: 'paused', pendingTransactions: 3, read: 5 });

    await ack(h); // c
    await ack(h); // d: one waiting → resume; f is read; two waiting, below the limit
    expect(h.conn.calls).toEqual(['pause', 'resume', 'pause', 'resume']);
    expect(await pauseView(h)).toEqual({
      state: 'streaming',
      readingPaused: false,
      pendingTransactions: 2,
      ready: true,
      gauge: 0,
      read: 6,
    });

    await ack(h);
    await ack(h);
    expect(h.sink.acknowledged).toEqual([['a'], ['b'], ['c'], ['d'], ['e'], ['f']]);
    expect(h.tailer.pendingTransactions).toBe(0);
  });

  it('at maxPendingKeys, whatever the number of transactions', async () => {
    const h = harness({ maxPendingTransactions: 100, maxPendingKeys: 4, maxBatchKeys: 3 });
    h.sink.hold = true;
    h.replica.commit('a1', 'a2', 'a3');
    h.replica.commit('b1', 'b2');
    h.replica.commit('c1');
    await h.tailer.start();
    h.conn.stream();
    await elapse();
    // a and b read: 5 keys wait (≥ 4) → paused before c, with two transactions waiting.
    expect(await pauseView(h)).toMatchObject({ state: 'paused', pendingTransactions: 2, read: 2 });
    expect(h.sink.batches).toEqual([['a1', 'a2', 'a3']]);

    await ack(h); // 2 keys wait (≤ 4/2) → resume: c is read
    expect(h.conn.calls).toEqual(['pause', 'resume']);
    expect(await pauseView(h)).toMatchObject({ state: 'streaming', read: 3 });
    await ack(h);
    await ack(h);
    expect(h.sink.acknowledged).toEqual([['a1', 'a2', 'a3'], ['b1', 'b2'], ['c1']]);
  });

  it('holds across a reconnect, and a link we do not read is not judged dead', async () => {
    const h = harness({ maxPendingTransactions: 2, livenessTimeoutMs: 1_000 });
    h.sink.hold = true;
    for (const k of ['a', 'b', 'c']) h.replica.commit(k);
    await h.tailer.start();
    h.conn.stream();
    await elapse();
    expect(await pauseView(h)).toMatchObject({ state: 'paused', read: 2 });

    // Paused for far longer than the liveness timeout: no heartbeat can come, and none is expected.
    await elapse(10_000);
    expect(h.connections).toHaveLength(1);

    h.conn.drop();
    await elapse(50);
    expect(h.connections).toHaveLength(2);
    expect(h.conn.dumps).toEqual([{ kind: 'gtid', gtid: '0-1-2' }]);
    // The new connection is paused as soon as its dump starts: c is not read.
    expect(h.conn.calls).toEqual(['pause']);
    h.conn.stream();
    await elapse(10_000);
    expect(h.connections).toHaveLength(2);
    expect(await pauseView(h)).toMatchObject({ state: 'paused', pendingTransactions: 2, read: 2 });

    await ack(h); // a: one waiting → the new connection resumes; c is read, two waiting → paused
    expect(h.conn.calls).toEqual(['pause', 'resume', 'pause']);
    expect(await pauseView(h)).toMatchObject({ state: 'paused', pendingTransactions: 2, read: 3 });
    await ack(h);
    expect(h.conn.calls).toEqual(['pause', 'resume', 'pause', 'resume']);
    await ack(h);
    expect(h.sink.acknowledged).toEqual([['a'], ['b'], ['c']]);
    expect(h.tailer.stats.reconnects).toBe(1);
  });
});
