/**
 * The Tailer loop's reconnects, on a fake replica and fake timers: delays grow per the backoff policy
 * (initialMs doubling up to maxMs, times a jitter factor in [0.5, 1)) and start over after a successful
 * reconnect; the new dump resumes just after the last transaction read in full, so within one process
 * no transaction reaches the sink twice and none is lost — a partly read one is read again from its
 * start, one read but not yet acknowledged stays queued and is not read again.
 */
import { describe, expect, it, vi } from 'vitest';
import { CachetailError } from '../../../src/errors.js';
import type { LoopHarness } from './loop-harness.js';
import { FILE, FIRST_TXN, FakeReplica, elapse, where, loopHarnesses } from './loop-harness.js';

const UNREACHABLE = new CachetailError(
  'REPLICATION_CONNECT',
  'cannot connect to replica:3306 as u: ECONNREFUSED',
  {
    retryable: true,
  },
);

// Jitter is set per test here.
const harness = loopHarnesses({ pinJitter: false });

/** Milliseconds from `since` to each connect attempt after it. */
const attemptsAfter = (h: LoopHarness, since: number): number[] =>
  h.connectTimes.filter((t) => t > since).map((t) => t - since);

describe('reconnect backoff', () => {
  it('delays double from initialMs up to maxMs while the replica is unreachable, and start over after a successful reconnect', async () => {
    // Jitter factor 0.5 + random/2: with random 0 every delay is exactly half its base.
    const random = vi.spyOn(Math, 'random').mockReturnValue(0);
    const h = harness({ reconnect: { initialMs: 100, maxMs: 1_000 } });
    h.replica.commit('a');
    await h.tailer.start();
    h.conn.stream();
    await elapse();
    expect(h.sink.batches).toEqual([['a']]);

    // The link breaks and the next five connects are refused; the sixth succeeds.
    h.connectErrors.push(UNREACHABLE, UNREACHABLE, UNREACHABLE, UNREACHABLE, UNREACHABLE);
    const firstDrop = Date.now();
    h.conn.drop();
    await elapse(1_749);
    // Bases 100, 200, 400, 800, 1000 (capped), 1000 → delays 50, 100, 200, 400, 500, 500.
    expect(attemptsAfter(h, firstDrop)).toEqual([50, 150, 350, 750, 1_250]);
    expect(h.connections).toHaveLength(1);
    await elapse(1);
    expect(attemptsAfter(h, firstDrop)).toEqual([50, 150, 350, 750, 1_250, 1_750]);
    expect(h.connections).toHaveLength(2);
    expect(h.conn.dumps).toEqual([{ kind: 'gtid', gtid: '0-1-1' }]);
    expect(h.tailer.stats.reconnects).toBe(1);

    // After the successful reconnect the next outage starts again at initialMs (random 0.5: factor 0.75).
    random.mockReturnValue(0.5);
    h.replica.commit('b');
    h.conn.stream();
    await elapse();
    const secondDrop = Date.now();
    h.conn.end(); // the server ends the dump (EOF)
    await elapse(74);
    expect(attemptsAfter(h, secondDrop)).toEqual([]);
    await elapse(1);
    expect(attemptsAfter(h, secondDrop)).toEqual([75]);
    expect(h.conn.dumps).toEqual([{ kind: 'gtid', gtid: '0-1-2' }]);

    expect(h.sink.batches).toEqual([['a'], ['b']]);
    expect(h.tailer.stats.reconnects).toBe(2);
    expect(h.connections.map((c) => c.isClosed)).toEqual([true, true, false]);
  });

  it('counts each reconnect by why the stream ended: network, closed, server-error, heartbeat-timeout', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const h = harness({ reconnect: { initialMs: 100, maxMs: 1_000 }, livenessTimeoutMs: 1_000 });
    await h.tailer.start();
    h.conn.stream();

    h.conn.drop(); // read ECONNRESET
    await elapse(50);
    h.conn.stream();
    h.conn.end(); // EOF
    await elapse(50);
    h.conn.stream();
    h.conn.drop(
      new CachetailError('REPLICATION_SERVER_ERROR', 'binlog dump: server error 1040: Too many connections', {
        retryable: true,
      }),
    );
    await elapse(50);
    h.conn.stream();
    // No event for livenessTimeoutMs: the check every 250 ms finds the link dead at 1250 ms.
    const quietSince = Date.now();
    await elapse(1_249);
    expect(h.connections).toHaveLength(4);
    expect(h.connections[3].calls).toEqual([]);
    await elapse(1);
    // The tailer ends that stream itself and closes the connection.
    expect(h.connections[3].calls).toEqual(['close']);
    await elapse(50);
    expect(attemptsAfter(h, quietSince)).toEqual([1_300]);
    expect(h.connections).toHaveLength(5);

    expect(h.tailer.stats.reconnects).toBe(4);
    expect(await h.counter('cachetail_reconnects_total', 'reason')).toEqual({
      closed: 1,
      network: 1,
      'heartbeat-timeout': 1,
      'server-error': 1,
      preflight: 0,
      other: 0,
    });
  });

  it('heartbeats keep a quiet link alive; without them it is declared dead after livenessTimeoutMs', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const h = harness({ livenessTimeoutMs: 1_000 });
    await h.tailer.start();
    h.conn.stream();
    for (let i = 0; i < 10; i++) {
      await elapse(900);
      h.conn.heartbeat();
    }
    expect(h.connections).toHaveLength(1);
    expect(h.tailer.state).toBe('streaming');
    const lastHeartbeat = Date.now();
    await elapse(1_300);
    expect(h.connections[0].calls).toEqual(['close']);
    expect(h.connections).toHaveLength(2);
    expect(attemptsAfter(h, lastHeartbeat)).toEqual([1_000 + 250 + 50]);
  });
});

describe('where a reconnect resumes', () => {
  it('just after the last whole transaction: a partly read one is read again, one awaiting the sink is not', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const h = harness();
    h.sink.hold = true;
    const t1 = h.replica.commit('a');
    const t2 = h.replica.commit('b');
    const t3 = h.replica.commit('c', 'd');
    await h.tailer.start();
    h.conn.stream(t3.commitAt); // t3's GTID and Annotate_rows arrive, its XID does not
    await elapse();
    expect(h.sink.batches).toEqual([['a']]);
    expect(where(h.tailer.readPosition)).toBe(`${FILE}:${t2.end} 0-1-2`);
    expect(where(h.tailer.acknowledged)).toBe(`${FILE}:${FIRST_TXN} -`);
    expect(h.tailer.pendingTransactions).toBe(2);

    h.conn.drop();
    await elapse(50);
    expect(h.connections[1].dumps).toEqual([{ kind: 'gtid', gtid: '0-1-2' }]);
    h.conn.stream();
    await elapse();
    expect(where(h.tailer.readPosition)).toBe(`${FILE}:${t3.end} 0-1-3`);

    // The sink acknowledges: each transaction was handed to it once, in commit order.
    h.sink.ack();
    await elapse();
    h.sink.ack();
    await elapse();
    h.sink.ack();
    await elapse();
    expect(h.sink.batches).toEqual([['a'], ['b'], ['c', 'd']]);
    expect(h.sink.acknowledged).toEqual([['a'], ['b'], ['c', 'd']]);
    expect(where(h.tailer.acknowledged)).toBe(`${FILE}:${t3.end} 0-1-3`);
    expect(t1.end).toBe(t2.start);
    // Events: the dump's ROTATE+FDE and 8 events, then ROTATE+FDE and t3's 3 events again.
    expect(h.tailer.stats).toEqual({
      events: 15,
      transactions: 3,
      keysDelivered: 4,
      batches: 3,
      reconnects: 1,
      gaps: 0,
      checkpointWrites: 0,
    });
  });

  it('by file and position on a binlog without GTIDs', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const h = harness({ replica: new FakeReplica(2, false) });
    h.replica.commit('a');
    const t2 = h.replica.commit('b');
    const t3 = h.replica.commit('c');
    await h.tailer.start();
    h.conn.stream(t3.commitAt);
    await elapse();
    expect(where(h.tailer.readPosition)).toBe(`${FILE}:${t2.end} -`);
    h.conn.drop();
    await elapse(50);
    expect(h.conn.dumps).toEqual([{ kind: 'file', file: FILE, position: t2.end }]);
    h.conn.stream();
    await elapse();
    expect(h.sink.batches).toEqual([['a'], ['b'], ['c']]);
    expect(where(h.tailer.acknowledged)).toBe(`${FILE}:${t3.end} -`);
  });
});

describe('stopping while reconnecting', () => {
  it('stop() during a backoff delay returns without waiting the delay out', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.999);
    const h = harness({ reconnect: { initialMs: 8_000, maxMs: 8_000 } });
    h.replica.commit('a');
    await h.tailer.start();
    h.conn.stream();
    await elapse();
    h.conn.drop();
    await elapse(10);
    expect(h.tailer.state).toBe('connecting');
    const stoppedAt = Date.now();
    let stopped = false;
    const stopping = h.tailer.stop(0).then(() => (stopped = true));
    await elapse(1);
    expect(stopped).toBe(true);
    await stopping;
    expect(Date.now() - stoppedAt).toBeLessThan(10);
    expect(h.tailer.state).toBe('stopped');
    // No reconnect was attempted after the stop.
    expect(h.connections).toHaveLength(1);
  });
});

describe('a late end from an earlier connection', () => {
  it('does not end the stream of the connection that replaced it', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const h = harness({ livenessTimeoutMs: 1_000, reconnect: { initialMs: 100, maxMs: 100 } });
    h.replica.commit('a');
    await h.tailer.start();
    h.conn.stream();
    await elapse();
    // No heartbeat: the tailer declares the link dead itself and reconnects (50 ms later).
    await elapse(1_300);
    expect(h.connections).toHaveLength(2);
    const [old, current] = h.connections;
    current.stream();
    await elapse();
    expect(h.tailer.state).toBe('streaming');
    // The first connection's socket reports its error only now.
    old.end(new Error('read ECONNRESET'));
    await elapse(500);
    expect(h.connections).toHaveLength(2);
    expect(h.tailer.stats.reconnects).toBe(1);
    h.replica.commit('b');
    current.stream();
    await elapse();
    expect(h.sink.batches).toEqual([['a'], ['b']]);
  });
});
