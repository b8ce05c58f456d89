/**
 * The checkpoint through the real Tailer loop: the store is written (every checkpointIntervalMs, and at
 * stop) only with the end of a transaction the sink acknowledged, every earlier one acknowledged too. A
 * transaction read but not acknowledged — in flight, failed, abandoned at stop, or read before a
 * reconnect — never moves it, so a restarted tailer reads it again (at-least-once across processes).
 */
import { describe, expect, it } from 'vitest';
import { CLOCK_START, FILE, FIRST_TXN, elapse, where, loopHarnesses } from './loop-harness.js';

const harness = loopHarnesses();

const START = `${FILE}:${FIRST_TXN} -`;

describe('the checkpoint moves only at acknowledged commits', () => {
  it('each write is the end of the last acknowledged transaction; a failed delivery never moves it', async () => {
    const h = harness({ checkpointIntervalMs: 1_000 });
    h.sink.hold = true;
    const a = h.replica.commit('a');
    h.replica.commit('b');
    const quiet = h.replica.commit(); // no keys: acknowledged together with what precedes it
    h.replica.commit('c');
    await h.tailer.start();
    h.conn.stream();
    await elapse(1_000);
    // Nothing acknowledged yet: the start position (nothing before it is owed).
    expect(h.store.positions).toEqual([START]);

    h.sink.ack(); // a
    await elapse(1_000);
    expect(h.store.positions).toEqual([START, `${FILE}:${a.end} 0-1-1`]);

    await elapse(1_000); // b in flight: nothing new to write
    expect(h.store.positions).toHaveLength(2);

    h.sink.ack(); // b, and the transaction without keys after it
    await elapse(1_000);
    expect(h.store.positions).toEqual([START, `${FILE}:${a.end} 0-1-1`, `${FILE}:${quiet.end} 0-1-3`]);
    expect(h.store.saved[2]).toEqual({
      version: 1,
      server: { flavor: 'mariadb', serverId: 2, address: 'replica:3306' },
      gtid: '0-1-3',
      file: FILE,
      position: quiet.end,
      writtenAt: CLOCK_START + 4_000,
    });

    h.sink.fail(new Error('memcached: every server refused the delete')); // c
    await elapse(5_000);
    await h.stop();
    expect(h.tailer.state).toBe('failed');
    expect(where(h.tailer.readPosition)).toBe(`${FILE}:${h.replica.end} 0-1-4`);
    expect(h.store.positions).toEqual([START, `${FILE}:${a.end} 0-1-1`, `${FILE}:${quiet.end} 0-1-3`]);
    expect(h.tailer.stats.checkpointWrites).toBe(3);
    expect(h.status().checkpoint).toEqual({ path: h.store.path, writtenAt: CLOCK_START + 4_000 });
  });

  it('a reconnect resumes after what was read, the checkpoint stays at what was acknowledged', async () => {
    const h = harness({ checkpointIntervalMs: 1_000 });
    h.sink.hold = true;
    h.replica.commit('a');
    const b = h.replica.commit('b');
    await h.tailer.start();
    h.conn.stream();
    await elapse(1_000);
    h.conn.drop();
    await elapse(1_000);
    expect(h.conn.dumps).toEqual([{ kind: 'gtid', gtid: '0-1-2' }]);
    expect(h.store.positions).toEqual([START]);

    h.sink.ack(); // a
    await elapse();
    h.sink.ack(); // b
    await elapse(1_000);
    expect(h.store.positions).toEqual([START, `${FILE}:${b.end} 0-1-2`]);
  });

  it('a delivery abandoned at stop is not checkpointed: the next process reads it again', async () => {
    const first = harness({ checkpointIntervalMs: 60_000 });
    first.sink.hold = true;
    const a = first.replica.commit('a');
    first.replica.commit('b');
    await first.tailer.start();
    first.conn.stream();
    await elapse();
    first.sink.ack(); // a; b stays in flight through the 500 ms drain, then is aborted
    await elapse();
    await first.stop(500);
    expect(first.sink.acknowledged).toEqual([['a']]);
    expect(first.store.positions).toEqual([`${FILE}:${a.end} 0-1-1`]);

    const next = harness({ replica: first.replica, checkpoint: first.store.saved[0] });
    await next.tailer.start();
    expect(next.conn.dumps).toEqual([{ kind: 'gtid', gtid: '0-1-1' }]);
    next.conn.stream();
    await elapse();
    expect(next.sink.batches).toEqual([['b']]);
  });

  it("after a restart the watermark's updatedAt is the checkpoint's time, never 0; a start without one says now", async () => {
    const first = harness({ checkpointIntervalMs: 60_000 });
    first.replica.commit('a');
    await first.tailer.start();
    first.conn.stream();
    await elapse();
    await first.stop();
    const checkpoint = first.store.saved.at(-1);
    if (!checkpoint) throw new Error('no checkpoint written');

    await elapse(5_000);
    const next = harness({ replica: first.replica, checkpoint });
    await next.tailer.start();
    expect(next.status().watermark).toEqual({
      gtid: '0-1-1',
      file: FILE,
      position: checkpoint.position,
      updatedAt: checkpoint.writtenAt,
    });

    const fresh = harness({ start: { kind: 'current' } });
    const startedAt = Date.now();
    await fresh.tailer.start();
    expect(fresh.status().watermark?.updatedAt).toBe(startedAt);
  });
});
