/**
 * The gap policies (GAP_POLICIES: fail-closed, flush) through the real Tailer loop, for each way the binlog
 * can stop being followable: the position was purged (error 1236), the replica behind the address is
 * another server and there is no GTID to find the position on it, an event cannot be decoded.
 * fail-closed: failed, alive, not ready with /status `gap` naming the cause; nothing flushed, nothing more
 * delivered, no further connection. flush: the sink's regional tier flushed once, reading continues at
 * the replica's current end (skipped transactions are never delivered), ready again, `gap` null.
 */
import { describe, expect, it } from 'vitest';
import { CachetailError } from '../../../src/errors.js';
import { GAP_POLICIES } from '../../../src/observability/labels.js';
import type { Checkpoint } from '../../../src/tailer/checkpoint.js';
import type { LoopHarness } from './loop-harness.js';
import {
  CLOCK_START,
  FILE,
  FakeReplica,
  ManualSink,
  PURGED,
  elapse,
  where,
  type LoopOptions,
  type Txn,
  loopHarnesses,
} from './loop-harness.js';

const harness = loopHarnesses();

const SERVER_CHANGED =
  'the replica is not the server the last position belongs to, and there is no usable GTID state to ' +
  'resume from: transactions in between cannot be found';

/** fail-closed: what /status, /readyz and /healthz say, and that nothing more happens. */
async function expectFailedClosed(h: LoopHarness, code: string, message: string, detectedAt: number) {
  expect(h.health()).toEqual({
    state: 'failed',
    readiness: { ready: false, reason: 'gap', message: `${code}: ${message} (policy fail-closed)` },
    liveness: { alive: true },
  });
  expect(h.status()).toMatchObject({
    gap: { policy: 'fail-closed', code, message, detectedAt },
    lastError: { code, message },
    refused: false,
  });
  expect(h.sink.flushes).toBe(0);
  expect(h.connections.every((c) => c.isClosed)).toBe(true);
  const connects = h.connectTimes.length;
  await elapse(60_000);
  expect(h.connectTimes).toHaveLength(connects);
  expect(await h.counter('cachetail_gap_events_total', 'policy')).toEqual({ 'fail-closed': 1, flush: 0 });
}

/** flush: flushed once, streaming from the replica's current end, ready, no gap. */
async function expectFlushed(h: LoopHarness, endBefore: number, gtidBefore: string) {
  expect(h.sink.flushes).toBe(1);
  expect(h.conn.dumps).toEqual([{ kind: 'file', file: FILE, position: endBefore }]);
  expect(where(h.tailer.readPosition)).toBe(`${FILE}:${endBefore} ${gtidBefore}`);
  expect(h.health()).toEqual({ state: 'streaming', readiness: { ready: true }, liveness: { alive: true } });
  expect(h.status().gap).toBeNull();
  expect(await h.counter('cachetail_gap_events_total', 'policy')).toEqual({ 'fail-closed': 0, flush: 1 });
  // What is committed from there on is delivered and checkpointed.
  const next = h.replica.commit('after-the-gap');
  h.conn.stream();
  await elapse(1_000);
  expect(h.sink.batches.at(-1)).toEqual(['after-the-gap']);
  expect(h.store.positions.at(-1)).toBe(`${FILE}:${next.end} ${next.gtid ?? '-'}`);
}

describe('position purged (error 1236 on the reconnect dump)', () => {
  /** a is read; the link drops; b and c are committed and their files purged before the reconnect. */
  async function purgedWhileAway(o: LoopOptions): Promise<LoopHarness> {
    const h = harness(o);
    h.replica.commit('a');
    await h.tailer.start();
    h.conn.stream();
    await elapse();
    h.conn.drop();
    h.replica.commit('b');
    h.replica.commit('c');
    h.replica.purgedBefore = h.replica.end;
    await elapse(50);
    return h;
  }

  it('fail-closed: failed on the gap, nothing flushed, b and c never delivered', async () => {
    const h = await purgedWhileAway({ gapPolicy: 'fail-closed' });
    await expectFailedClosed(h, 'BINLOG_UNAVAILABLE', PURGED.message, CLOCK_START + 50);
    await expect(h.tailer.done).resolves.toBeUndefined();
    // The dump that met the purge, then one more connection opened to apply the policy.
    expect(h.connections.map((c) => c.dumps)).toEqual([
      [{ kind: 'file', file: FILE, position: 256 }],
      [{ kind: 'gtid', gtid: '0-1-1' }],
      [],
    ]);
    expect(h.sink.batches).toEqual([['a']]);
    expect(h.tailer.stats).toMatchObject({ gaps: 1, reconnects: 1 });
  });

  it('flush: the tier is flushed and reading continues at the current end; b and c are not delivered', async () => {
    const h = await purgedWhileAway({ gapPolicy: 'flush' });
    const end = h.replica.end;
    await expectFlushed(h, end, '0-1-3');
    expect(h.sink.batches).toEqual([['a'], ['after-the-gap']]);
    // The gap stays in /status as the last error; it no longer makes the tailer not ready.
    expect(h.status().lastError).toEqual({ code: 'BINLOG_UNAVAILABLE', message: PURGED.message });
    expect(h.tailer.stats).toMatchObject({ gaps: 1, reconnects: 2 });
  });
});

describe('another server behind the address, no GTID to find the position on it', () => {
  /** a is read from server 2 (no GTIDs); the link drops; server 3 answers the reconnect. */
  async function serverChanged(o: LoopOptions): Promise<{ h: LoopHarness; a: Txn }> {
    const h = harness({ ...o, replica: new FakeReplica(2, false) });
    const a = h.replica.commit('a');
    await h.tailer.start();
    h.conn.stream();
    await elapse();
    h.conn.drop();
    h.replica = new FakeReplica(3, false);
    // The other server's binlog happens to have an event at the old position: only the identity tells.
    h.replica.commit('x');
    h.replica.commit('y');
    expect(h.replica.txns[0].end).toBe(a.end);
    await elapse(50);
    return { h, a };
  }

  it('fail-closed: failed on the gap; the old position is never used on the other server', async () => {
    const { h, a } = await serverChanged({ gapPolicy: 'fail-closed' });
    await expectFailedClosed(h, 'GAP_IDENTITY_CHANGED', SERVER_CHANGED, CLOCK_START + 50);
    expect(h.connections.map((c) => c.dumps)).toEqual([
      [{ kind: 'file', file: FILE, position: 256 }],
      [],
      [],
    ]);
    expect(h.sink.batches).toEqual([['a']]);
    // The identity stays the one the positions belong to: a checkpoint never pairs them with server 3.
    expect(h.tailer.identity).toEqual({ flavor: 'mariadb', serverId: 2, address: 'replica:3306' });
    await h.stop();
    expect(h.store.saved.map((c) => [c.server.serverId, c.position])).toEqual([[2, a.end]]);
  });

  it('flush: the tier is flushed and reading continues at the new server’s current end', async () => {
    const { h } = await serverChanged({ gapPolicy: 'flush' });
    await expectFlushed(h, h.replica.txns[1].end, '');
    expect(h.sink.batches).toEqual([['a'], ['after-the-gap']]);
    expect(h.tailer.identity).toEqual({ flavor: 'mariadb', serverId: 3, address: 'replica:3306' });
    expect(h.store.saved.at(-1)?.server).toEqual({ flavor: 'mariadb', serverId: 3, address: 'replica:3306' });
  });

  it('with a GTID position it is no gap: the reconnect resumes by GTID on the other server', async () => {
    const h = harness({ gapPolicy: 'fail-closed' });
    h.replica.commit('a');
    await h.tailer.start();
    h.conn.stream();
    await elapse();
    h.conn.drop();
    const other = new FakeReplica(3);
    other.commit('a');
    other.commit('b');
    h.replica = other;
    await elapse(50);
    expect(h.conn.dumps).toEqual([{ kind: 'gtid', gtid: '0-1-1' }]);
    h.conn.stream();
    await elapse();
    expect(h.sink.batches).toEqual([['a'], ['b']]);
    expect(h.health().state).toBe('streaming');
    expect(h.tailer.stats.gaps).toBe(0);
  });
});

describe('an undecodable event (CRC mismatch)', () => {
  /** a is read; b's XID is corrupt; c follows. */
  async function corruptEvent(o: LoopOptions): Promise<{ h: LoopHarness; message: string }> {
    const h = harness(o);
    h.replica.commit('a');
    const b = h.replica.commit('b');
    h.replica.commit('c');
    const message = h.replica.corrupt(b.commitAt);
    await h.tailer.start();
    h.conn.stream();
    await elapse();
    return { h, message };
  }

  it('fail-closed: failed on the gap at once (no reconnect delay); b and c never delivered', async () => {
    const { h, message } = await corruptEvent({ gapPolicy: 'fail-closed' });
    await expectFailedClosed(h, 'CHECKSUM_MISMATCH', message, CLOCK_START);
    expect(h.connections[0].endedWith?.message).toBe(message);
    expect(h.connections.map((c) => c.dumps)).toEqual([[{ kind: 'file', file: FILE, position: 256 }], []]);
    expect(h.sink.batches).toEqual([['a']]);
    expect(h.tailer.stats).toMatchObject({ gaps: 1, reconnects: 0, transactions: 1 });
  });

  it('flush: flushed, and reading continues past the bad event at the current end', async () => {
    const { h } = await corruptEvent({ gapPolicy: 'flush' });
    await expectFlushed(h, h.replica.end, '0-1-3');
    expect(h.sink.batches).toEqual([['a'], ['after-the-gap']]);
    expect(h.connectTimes).toEqual([CLOCK_START, CLOCK_START]);
  });
});

describe('a gap at start: the checkpoint belongs to another server and has no GTID', () => {
  const FOREIGN: Checkpoint = {
    version: 1,
    server: { flavor: 'mariadb', serverId: 7, address: 'replica:3306' },
    gtid: null,
    file: FILE,
    position: 256,
    writtenAt: CLOCK_START - 60_000,
  };

  it('fail-closed: start() rejects with the gap; not refused; the connection is closed', async () => {
    const h = harness({ gapPolicy: 'fail-closed', checkpoint: FOREIGN });
    h.replica.commit('a');
    const err = await h.tailer.start().catch((e: unknown) => e);
    expect(err).toEqual(new CachetailError('GAP_IDENTITY_CHANGED', SERVER_CHANGED, { retryable: false }));
    await expectFailedClosed(h, 'GAP_IDENTITY_CHANGED', SERVER_CHANGED, CLOCK_START);
    expect(h.connections.map((c) => c.dumps)).toEqual([[]]);
    expect(h.sink.batches).toEqual([]);
  });

  it('flush: start() flushes and starts at the current end', async () => {
    const h = harness({ gapPolicy: 'flush', checkpoint: FOREIGN });
    h.replica.commit('a');
    await h.tailer.start();
    await expectFlushed(h, h.replica.end, '0-1-1');
    expect(h.sink.batches).toEqual([['after-the-gap']]);
    expect(h.store.saved.at(-1)?.server).toEqual({ flavor: 'mariadb', serverId: 2, address: 'replica:3306' });
  });
});

describe('the flush policy needs a sink that can flush', () => {
  it('without sink.flush a gap fails closed (and /status says fail-closed)', async () => {
    const h = harness({ gapPolicy: 'flush', sink: new ManualSink(false) });
    h.replica.commit('a');
    const b = h.replica.commit('b');
    const message = h.replica.corrupt(b.commitAt);
    await h.tailer.start();
    h.conn.stream();
    await elapse();
    expect(h.health()).toEqual({
      state: 'failed',
      readiness: {
        ready: false,
        reason: 'gap',
        message: `CHECKSUM_MISMATCH: ${message} (policy fail-closed)`,
      },
      liveness: { alive: true },
    });
    expect(h.status().gap?.policy).toBe('fail-closed');
    expect(h.sink.batches).toEqual([['a']]);
    // Counted under the policy applied, not the one configured.
    expect(await h.counter('cachetail_gap_events_total', 'policy')).toEqual({ 'fail-closed': 1, flush: 0 });
  });
});

describe('a corrupt checkpoint is a refusal, not a gap, whatever the policy', () => {
  it.each(GAP_POLICIES)('%s: refused before any connection, nothing flushed', async (gapPolicy) => {
    const corrupt = new CachetailError(
      'CHECKPOINT_CORRUPT',
      'checkpoint /state/checkpoint.json is not valid (position: Too small: expected number to be >=4).',
      { retryable: false },
    );
    const h = harness({ gapPolicy, checkpoint: corrupt });
    await expect(h.tailer.start()).rejects.toBe(corrupt);
    expect(h.health()).toEqual({
      state: 'failed',
      readiness: { ready: false, reason: 'failed', message: `CHECKPOINT_CORRUPT: ${corrupt.message}` },
      liveness: { alive: true },
    });
    expect(h.status()).toMatchObject({ refused: true, gap: null });
    expect(h.connectTimes).toEqual([]);
    expect(h.sink.flushes).toBe(0);
    expect(h.tailer.stats.gaps).toBe(0);
  });
});

describe('transactions read but not acknowledged when a gap is met', () => {
  async function pendingAtGap(gapPolicy: 'fail-closed' | 'flush'): Promise<LoopHarness> {
    const h = harness({ gapPolicy });
    h.sink.hold = true;
    h.replica.commit('a');
    h.replica.commit('b');
    const c = h.replica.commit('c');
    h.replica.corrupt(c.commitAt);
    await h.tailer.start();
    h.conn.stream();
    await elapse();
    return h;
  }

  it('fail-closed: the delivery in flight is abandoned and the rest dropped; the checkpoint does not move', async () => {
    const h = await pendingAtGap('fail-closed');
    expect(h.sink.batches).toEqual([['a']]);
    expect(h.sink.waitingCount).toBe(0);
    await h.stop();
    expect(h.sink.acknowledged).toEqual([]);
    expect(h.store.positions).toEqual([`${FILE}:256 -`]);
  });

  it('flush: they are still delivered, in order, after the flush', async () => {
    const h = await pendingAtGap('flush');
    expect(h.sink.flushes).toBe(1);
    h.sink.ack();
    await elapse();
    h.sink.ack();
    await elapse();
    expect(h.sink.acknowledged).toEqual([['a'], ['b']]);
    expect(where(h.tailer.acknowledged)).toBe(`${FILE}:${h.replica.end} 0-1-3`);
  });
});
