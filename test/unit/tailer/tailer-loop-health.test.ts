/**
 * What /status, /readyz and /healthz say (tailerStatus → readiness/liveness, src/observability/status.ts)
 * as the real Tailer loop moves through its states on a fake replica: idle, connecting (at start and
 * while reconnecting, with the last error), streaming, failed (a restart can help: not alive), stopped;
 * and a refused setup — not retried, alive, not ready, `refused: true` — at start and at a reconnect.
 */
import { describe, expect, it } from 'vitest';
import { CachetailError } from '../../../src/errors.js';
import { readiness } from '../../../src/observability/status.js';
import type { LoopHarness } from './loop-harness.js';
import { CLOCK_START, FILE, elapse, loopHarnesses } from './loop-harness.js';

const DENIED = new CachetailError(
  'REPLICATION_ACCESS_DENIED',
  "cannot connect to replica:3306 as u: server error 1045: Access denied for user 'u'@'h' (using password: YES). " +
    'Fix: check source.user and source.password / source.passwordFile (CACHETAIL_SOURCE_PASSWORD).',
  { retryable: false },
);
const UNREACHABLE = new CachetailError(
  'REPLICATION_CONNECT',
  'cannot connect to replica:3306 as u: ECONNREFUSED',
  {
    retryable: true,
  },
);

/** What src/replication/client.ts raises for ERR 1227 on COM_REGISTER_SLAVE or the dump command. */
const DUMP_REFUSED = new CachetailError(
  'REPLICATION_ACCESS_DENIED',
  'binlog dump: server error 1227: Access denied; you need (at least one of) the REPLICATION SLAVE privilege(s)',
);

const harness = loopHarnesses();

const STREAMING = { state: 'streaming', readiness: { ready: true }, liveness: { alive: true } };

describe('the states of the loop, as /status, /readyz and /healthz see them', () => {
  it('idle → connecting → streaming → connecting while reconnecting (with the last error) → streaming → stopped', async () => {
    const h = harness();
    h.replica.commit('a');
    expect(h.health()).toEqual({
      state: 'idle',
      readiness: { ready: false, reason: 'starting', message: 'the tailer is idle' },
      liveness: { alive: true },
    });

    const release = h.holdConnects();
    const started = h.tailer.start();
    await elapse();
    expect(h.health()).toEqual({
      state: 'connecting',
      readiness: { ready: false, reason: 'starting', message: 'the tailer is connecting' },
      liveness: { alive: true },
    });
    release();
    await started;
    h.conn.stream();
    await elapse();
    expect(h.health()).toEqual(STREAMING);
    expect(h.status()).toMatchObject({ lastError: null, refused: false, gap: null, pendingTransactions: 0 });

    // The link breaks: not ready from that moment until the new dump runs, and /status says why.
    h.connectErrors.push(UNREACHABLE);
    h.conn.drop();
    await elapse();
    const reconnecting = (last: string) => ({
      state: 'connecting',
      readiness: {
        ready: false,
        reason: 'starting',
        message: `the tailer is connecting (last error ${last})`,
      },
      liveness: { alive: true },
    });
    expect(h.health()).toEqual(reconnecting('REPLICATION_LOST: read ECONNRESET'));
    expect(h.status().lastError).toEqual({ code: 'REPLICATION_LOST', message: 'read ECONNRESET' });
    await elapse(50); // the first attempt is refused
    expect(h.health()).toEqual(reconnecting(`REPLICATION_CONNECT: ${UNREACHABLE.message}`));
    await elapse(100); // the second succeeds
    expect(h.health()).toEqual(STREAMING);
    // The last error stays in /status after the recovery ("the last error"); it no longer affects readiness.
    expect(h.status().lastError).toEqual({ code: 'REPLICATION_CONNECT', message: UNREACHABLE.message });
    expect(h.tailer.stats.reconnects).toBe(1);

    await h.stop();
    expect(h.health()).toEqual({
      state: 'stopped',
      readiness: { ready: false, reason: 'stopped', message: 'the tailer is stopped' },
      liveness: { alive: true },
    });
  });

  it('a sink failure fails the loop: not alive (a restart can help), not ready, reading stopped, not retried', async () => {
    const h = harness();
    h.sink.hold = true;
    h.replica.commit('a');
    h.replica.commit('b');
    await h.tailer.start();
    h.conn.stream();
    await elapse();
    h.sink.fail(new Error('memcached: every server refused the delete'));
    await elapse();
    const error = { code: 'INTERNAL', message: 'memcached: every server refused the delete' };
    expect(h.health()).toEqual({
      state: 'failed',
      readiness: { ready: false, reason: 'failed', message: `${error.code}: ${error.message}` },
      liveness: { alive: false, error },
    });
    expect(h.status()).toMatchObject({ lastError: error, refused: false, gap: null, pendingTransactions: 2 });
    expect(h.conn.isClosed).toBe(true);
    await expect(h.tailer.done).resolves.toBeUndefined();
    await elapse(60_000);
    expect(h.connectTimes).toHaveLength(1);
    expect(h.sink.batches).toEqual([['a']]);
  });
});

describe('a start that can fail for now', () => {
  it('a dump refused for now (too many connections): still connecting, not refused, the connection closed; the next start() runs', async () => {
    const h = harness();
    h.replica.registerError = new CachetailError(
      'REPLICATION_SERVER_ERROR',
      'register as replica: server error 1040: Too many connections',
      { retryable: true },
    );
    await expect(h.tailer.start()).rejects.toBe(h.replica.registerError);
    expect(h.health()).toEqual({
      state: 'connecting',
      readiness: { ready: false, reason: 'starting', message: 'the tailer is connecting' },
      liveness: { alive: true },
    });
    expect(h.status()).toMatchObject({ refused: false, gap: null });
    expect(h.connections.map((c) => c.isClosed)).toEqual([true]);

    h.replica.registerError = null;
    h.replica.commit('a');
    await h.tailer.start();
    h.conn.stream();
    await elapse();
    expect(h.health()).toEqual(STREAMING);
    expect(h.connections.map((c) => c.isClosed)).toEqual([true, false]);
    expect(h.sink.batches).toEqual([['a']]);
  });
});

describe('a refused setup is final: not retried, alive, not ready, refused', () => {
  const REFUSED = {
    state: 'failed',
    readiness: { ready: false, reason: 'failed', message: `REPLICATION_ACCESS_DENIED: ${DENIED.message}` },
    liveness: { alive: true },
  };

  it('at start (the login is refused)', async () => {
    const h = harness();
    h.connectErrors.push(DENIED);
    await expect(h.tailer.start()).rejects.toBe(DENIED);
    expect(h.health()).toEqual(REFUSED);
    expect(h.status()).toMatchObject({
      refused: true,
      gap: null,
      lastError: { code: DENIED.code, message: DENIED.message },
    });
    await elapse(60_000);
    expect(h.connectTimes).toEqual([CLOCK_START]);
    expect(h.connections).toEqual([]);
  });

  it('at a reconnect (the login is refused now): the loop ends with the refusal', async () => {
    const h = harness();
    h.replica.commit('a');
    await h.tailer.start();
    h.conn.stream();
    await elapse();
    const ended = h.tailer.done.then(
      () => 'resolved',
      (err: unknown) => err,
    );
    h.connectErrors.push(DENIED);
    h.conn.drop();
    await elapse(50);
    expect(await ended).toBe(DENIED);
    expect(h.health()).toEqual(REFUSED);
    expect(h.status()).toMatchObject({ refused: true, gap: null, position: { file: FILE } });
    await elapse(60_000);
    expect(h.connectTimes).toEqual([CLOCK_START, CLOCK_START + 50]);
    expect(h.connections).toHaveLength(1);
    expect(h.sink.batches).toEqual([['a']]);
  });

  /** A tailer streaming 'a', and how its loop ends (the error it rejects with, or 'resolved'). */
  async function streamingWithEnd(): Promise<{ h: LoopHarness; ended: Promise<unknown> }> {
    const h = harness();
    h.replica.commit('a');
    await h.tailer.start();
    h.conn.stream();
    await elapse();
    const ended = h.tailer.done.then(
      () => 'resolved',
      (err: unknown) => err,
    );
    return { h, ended };
  }

  it('at a reconnect (the dump itself is refused now, e.g. REPLICATION SLAVE revoked): refused, as at start', async () => {
    const { h, ended } = await streamingWithEnd();
    h.replica.registerError = DUMP_REFUSED;
    h.conn.drop();
    await elapse(50);
    expect(await ended).toBe(DUMP_REFUSED);
    expect(h.health()).toMatchObject({ state: 'failed', liveness: { alive: true } });
    expect(h.status()).toMatchObject({ refused: true, gap: null });
    await elapse(60_000);
    expect(h.connections).toHaveLength(2);
  });

  it('the stream ended by the server with a refusal (ERR 1227 answering the dump): refused too', async () => {
    const { h, ended } = await streamingWithEnd();
    h.conn.end(DUMP_REFUSED);
    await elapse(50);
    expect(await ended).toBe(DUMP_REFUSED);
    expect(h.health()).toMatchObject({ state: 'failed', liveness: { alive: true } });
    expect(h.status()).toMatchObject({
      refused: true,
      gap: null,
      lastError: { code: 'REPLICATION_ACCESS_DENIED' },
    });
    await elapse(60_000);
    expect(h.connections).toHaveLength(1);
  });
});

describe('lag: one definition in /status and /metrics', () => {
  /** /status lagSeconds and the cachetail_replication_lag_seconds gauge, read together. */
  async function lags(h: LoopHarness): Promise<[number | null, number | undefined]> {
    const gauge = await h.metrics.registry.getSingleMetric('cachetail_replication_lag_seconds')?.get();
    return [h.status().lagSeconds, gauge?.values[0]?.value];
  }

  it('an idle, caught-up replica: 0 in both after every heartbeat, over many polls; the event age before', async () => {
    const h = harness({ livenessTimeoutMs: 0 });
    h.replica.commit('a');
    await h.tailer.start();
    h.conn.stream();
    await elapse();
    // The event was written 100 s before the fake clock's start.
    expect(await lags(h)).toEqual([100, 100]);

    const polls: [number | null, number | undefined][] = [];
    h.conn.heartbeat();
    for (let i = 0; i < 40; i++) {
      await elapse(250);
      if (i % 8 === 7) h.conn.heartbeat(); // the server's heartbeat period: 2 s
      polls.push(await lags(h));
    }
    expect(polls).toEqual(Array.from({ length: 40 }, () => [0, 0]));
    expect(readiness(h.status(), { maxLagSeconds: 1 })).toEqual({ ready: true });
  });

  it('after the link drops the lag grows from the last heartbeat, in both', async () => {
    const h = harness({ livenessTimeoutMs: 0, reconnect: { initialMs: 60_000, maxMs: 60_000 } });
    await h.tailer.start();
    h.conn.stream();
    h.conn.heartbeat();
    await elapse();
    expect(await lags(h)).toEqual([0, 0]);
    h.conn.drop();
    await elapse(3_000);
    expect(await lags(h)).toEqual([3, 3]);
  });
});
