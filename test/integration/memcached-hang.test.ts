/**
 * A SIGSTOPped memcached: the port stays open and the kernel accepts our bytes, but nothing answers —
 * the failure a refused connection does not cover. Its data survives the pause (like a network
 * partition), so after SIGCONT the test can see exactly what the recovery did: with `replay` only the
 * journaled keys are gone and the others are still cached; with `flush` everything is gone.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pauseMemcached, resumeMemcached, type MemcachedServer } from '../../src/devcluster/memcached.js';
import { MemcachedSink, type MemcachedSinkOptions } from '../../src/sinks/memcached/sink.js';
import { waitFor } from '../helpers/wait.js';
import {
  presentKeys,
  serverStats,
  setAll,
  startTestServers,
  testLogger,
  type TestServers,
} from './memcached-support.js';

const require = createRequire(import.meta.url);
const memjsUtils = require('memjs/lib/memjs/utils') as { hashCode(s: string): number };
const ownerOf = (key: string) => memjsUtils.hashCode(key) % 3;
const never = new AbortController().signal;
const TIMEOUT_MS = 300;

let ts: TestServers;
let journalDir: string;
let sink: MemcachedSink | undefined;

function makeSink(extra: Partial<MemcachedSinkOptions> = {}): MemcachedSink {
  sink = new MemcachedSink({
    servers: ts.servers.map((x) => x.address),
    timeoutMs: TIMEOUT_MS,
    attemptsBeforeDown: 2,
    backoff: { initialMs: 20, maxMs: 40 },
    probeBackoff: { initialMs: 100, maxMs: 500 },
    journalDir,
    log: testLogger(),
    ...extra,
  });
  return sink;
}

const keysOf = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}:${i}`);

beforeEach(async () => {
  ts = await startTestServers(3);
  journalDir = await mkdtemp(join(tmpdir(), 'cachetail-hang-'));
});
afterEach(async () => {
  await sink?.close();
  sink = undefined;
  await ts.stop();
  await rm(journalDir, { recursive: true, force: true });
});

/** Stores `controls` and the batches' keys on server 1, pauses it, delivers both batches. */
async function deliverWhilePaused(
  s: MemcachedSink,
  b: MemcachedServer,
  batches: string[][],
  controls: string[],
) {
  await setAll(ts.direct[1], [...controls, ...batches.flat().filter((k) => ownerOf(k) === 1)]);
  await s.deliver({ transactions: [], keys: ['warm-up'] }, never); // connections open before the pause
  pauseMemcached(b);
  const latencies: number[] = [];
  for (const keys of batches) {
    await Promise.all(
      [0, 2].map((n) =>
        setAll(
          ts.direct[n],
          keys.filter((k) => ownerOf(k) === n),
        ),
      ),
    );
    const t0 = Date.now();
    await s.deliver({ transactions: [], keys }, never);
    latencies.push(Date.now() - t0);
    expect(await presentKeys(ts.direct[0], keys)).toEqual([]);
    expect(await presentKeys(ts.direct[2], keys)).toEqual([]);
  }
  return latencies;
}

describe('a hung (SIGSTOPped) memcached server', () => {
  it('is detected by the receive timeout; replay deletes exactly the journaled keys', async () => {
    const s = makeSink();
    const b = ts.servers[1];
    const batches = [keysOf('h1', 60), keysOf('h2', 60)];
    const controls = keysOf('control', 20).filter((k) => ownerOf(k) === 1);
    const latencies = await deliverWhilePaused(s, b, batches, controls);
    // Two attempts, each ending when nothing arrived for TIMEOUT_MS, then a journal append.
    expect(latencies[0]).toBeGreaterThanOrEqual(2 * TIMEOUT_MS);
    expect(latencies[0]).toBeLessThan(2 * TIMEOUT_MS + 1_000);
    // Down now: no more waiting for timeouts (that alone would take 2 × TIMEOUT_MS).
    expect(latencies[1]).toBeLessThan(2 * TIMEOUT_MS);
    const onB = batches.flat().filter((k) => ownerOf(k) === 1);
    expect(s.stats).toMatchObject({ timeouts: 2, journaled: onB.length, serversDown: 1 });

    resumeMemcached(b);
    await waitFor('server 1 back', () => (s.serverStatus()[1]?.state === 'up' ? true : undefined));
    // The journaled keys are gone, the controls (never invalidated) are still cached: a replay, not a flush.
    expect(await presentKeys(ts.direct[1], [...onB, ...controls])).toEqual(controls);
    expect(s.stats).toMatchObject({ replayed: onB.length, flushes: 0 });
    expect((await serverStats(b.address)).cmd_flush).toBe(0);
  });

  it('with onServerRecovery "flush" the server is flushed before it is used again', async () => {
    const s = makeSink({ onServerRecovery: 'flush' });
    const b = ts.servers[1];
    const batches = [keysOf('f1', 60), keysOf('f2', 60)];
    const controls = keysOf('control', 20).filter((k) => ownerOf(k) === 1);
    await deliverWhilePaused(s, b, batches, controls);
    const onB = batches.flat().filter((k) => ownerOf(k) === 1);
    expect(s.stats).toMatchObject({ journaled: 0, coveredByFlush: onB.length, serversDown: 1 });

    resumeMemcached(b);
    await waitFor('server 1 back', () => (s.serverStatus()[1]?.state === 'up' ? true : undefined));
    expect(await presentKeys(ts.direct[1], [...onB, ...controls])).toEqual([]);
    const stats = await serverStats(b.address);
    expect({ cmd_flush: stats.cmd_flush, flushes: s.stats.flushes, replayed: s.stats.replayed }).toEqual({
      cmd_flush: 1,
      flushes: 1,
      replayed: 0,
    });
    // Back in service after the flush: a new value is deleted normally.
    const after = keysOf('after', 30).filter((k) => ownerOf(k) === 1);
    await setAll(ts.direct[1], after);
    await s.deliver({ transactions: [], keys: after }, never);
    expect(await presentKeys(ts.direct[1], after)).toEqual([]);
  });
});
