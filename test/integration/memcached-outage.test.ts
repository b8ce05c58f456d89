/**
 * Real memcached servers that die and come back. The restarted server runs with `-vv`, whose log names
 * every key it was asked to delete: that is how the test sees exactly which deletes arrived, even though
 * a restarted memcached is empty.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/devcluster/proc.js';
import { killMemcached, restartMemcached } from '../../src/devcluster/memcached.js';
import { journalPath } from '../../src/sinks/memcached/journal.js';
import { MemcachedSink, type MemcachedSinkOptions } from '../../src/sinks/memcached/sink.js';
import { waitFor } from '../helpers/wait.js';
import {
  deletesInLog,
  logSize,
  presentKeys,
  setAll,
  startTestServers,
  testLogger,
  unique,
  type TestServers,
} from './memcached-support.js';

const require = createRequire(import.meta.url);
const memjsUtils = require('memjs/lib/memjs/utils') as { hashCode(s: string): number };
const ownerOf = (key: string) => memjsUtils.hashCode(key) % 3;
const never = new AbortController().signal;
const OUTAGE_MS = 30_000;

let ts: TestServers;
let journalDir: string;
const sinks: MemcachedSink[] = [];

function sink(extra: Partial<MemcachedSinkOptions> = {}): MemcachedSink {
  const s = new MemcachedSink({
    servers: ts.servers.map((x) => x.address),
    timeoutMs: 500,
    attemptsBeforeDown: 3,
    backoff: { initialMs: 50, maxMs: 200 },
    probeBackoff: { initialMs: 100, maxMs: 1_000 },
    journalDir,
    log: testLogger(),
    ...extra,
  });
  sinks.push(s);
  return s;
}

async function journaledKeys(address: string): Promise<string[]> {
  const text = await readFile(journalPath(journalDir, address), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.startsWith('"'))
    .map((l) => JSON.parse(l) as string);
}

beforeEach(async () => {
  ts = await startTestServers(3, { verbose: true });
  journalDir = await mkdtemp(join(tmpdir(), 'cachetail-outage-'));
});
afterEach(async () => {
  for (const s of sinks.splice(0)) await s.close();
  await ts.stop();
  await rm(journalDir, { recursive: true, force: true });
});

describe('a memcached server down for 30 s (killed by PID, restarted on the same port)', () => {
  it(
    'others keep receiving deletes, its keys are journaled, then replayed exactly',
    { timeout: 120_000 },
    async () => {
      const s = sink();
      const b = ts.servers[1];
      await killMemcached(b, 'SIGKILL');

      const started = Date.now();
      const latencies: number[] = [];
      const journaledExpected: string[] = [];
      const others: string[][] = [[], [], []];
      for (let i = 0; Date.now() - started < OUTAGE_MS; i++) {
        // 30 new keys per batch, plus one key of the previous batch again (a repeat across batches).
        const keys = Array.from({ length: 30 }, (_, j) => `o:${i}:${j}`);
        if (i > 0) keys.push(`o:${i - 1}:0`);
        for (const k of keys) if (ownerOf(k) !== 1) others[ownerOf(k)]?.push(k);
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
        journaledExpected.push(...keys.filter((k) => ownerOf(k) === 1));
        // The other servers' keys are gone as soon as deliver resolved.
        expect(await presentKeys(ts.direct[0], keys)).toEqual([]);
        expect(await presentKeys(ts.direct[2], keys)).toEqual([]);
        await new Promise((r) => setTimeout(r, 100));
      }
      // Declaring the server down costs the first batch up to 3 refused attempts; after that, a journal
      // append (one fsync) per batch.
      expect(latencies[0]).toBeLessThan(2_000);
      expect(Math.max(...latencies.slice(1))).toBeLessThan(1_000);
      // Only the first batch's keys for server 1 were ever sent to it (3 attempts); later ones went
      // straight to the journal.
      const firstOnB = journaledExpected.filter((k) => k.startsWith('o:0:')).length;
      expect(s.stats).toMatchObject({ errors: 3 * firstOnB, retries: 2 * firstOnB });
      expect(latencies.length).toBeGreaterThan(100);
      expect(await journaledKeys(b.address)).toEqual(journaledExpected);
      expect(s.stats).toMatchObject({ journaled: journaledExpected.length, serversDown: 1, replayed: 0 });
      expect(s.serverStatus()[1]).toMatchObject({ state: 'down', journalKeys: journaledExpected.length });

      const restarted = await restartMemcached(b, {
        baseDir: ts.baseDir,
        name: 'mc1-restarted',
        verbose: true,
      });
      ts.servers.push(restarted);
      await waitFor(
        'server 1 back in service',
        () => (s.serverStatus()[1]?.state === 'up' ? true : undefined),
        15_000,
      );
      // Exactly the journaled keys arrived, each once, in journal order; nothing else.
      expect(await deletesInLog(restarted)).toEqual(unique(journaledExpected));
      expect(s.stats).toMatchObject({
        replayed: unique(journaledExpected).length,
        serversRecovered: 1,
        flushes: 0,
      });
      expect(await readdir(journalDir)).toEqual([]);

      // And it is used directly again.
      const after = Array.from({ length: 40 }, (_, j) => `after:${j}`).filter((k) => ownerOf(k) === 1);
      const from = await logSize(restarted);
      await s.deliver({ transactions: [], keys: after }, never);
      expect(await deletesInLog(restarted, from)).toEqual(after);
      expect(s.stats.journaled).toBe(journaledExpected.length);
    },
  );
});

describe('memcached restart', () => {
  it('a server restarted between batches gets the next batch on a new connection, nothing journaled', async () => {
    const s = sink();
    const b = ts.servers[1];
    const first = Array.from({ length: 60 }, (_, j) => `r1:${j}`);
    await s.deliver({ transactions: [], keys: first }, never);
    expect(await deletesInLog(b)).toEqual(first.filter((k) => ownerOf(k) === 1));

    await killMemcached(b, 'SIGKILL');
    const restarted = await restartMemcached(b, {
      baseDir: ts.baseDir,
      name: 'mc1-restarted',
      verbose: true,
    });
    ts.servers.push(restarted);
    const second = Array.from({ length: 60 }, (_, j) => `r2:${j}`);
    await s.deliver({ transactions: [], keys: second }, never);
    expect(await deletesInLog(restarted)).toEqual(second.filter((k) => ownerOf(k) === 1));
    expect(s.stats).toMatchObject({ journaled: 0, serversDown: 0 });
  });

  it('a server restarting while a delivery retries: the retries reach the restarted server', async () => {
    const s = sink({ attemptsBeforeDown: 20, backoff: { initialMs: 100, maxMs: 200 } });
    const b = ts.servers[1];
    const keys = Array.from({ length: 3000 }, (_, j) => `r3:${j}`);
    await killMemcached(b, 'SIGKILL');
    const delivery = s.deliver({ transactions: [], keys }, never);
    await new Promise((r) => setTimeout(r, 300));
    const restarted = await restartMemcached(b, {
      baseDir: ts.baseDir,
      name: 'mc1-restarted',
      verbose: true,
    });
    ts.servers.push(restarted);
    await delivery;
    expect(await deletesInLog(restarted)).toEqual(keys.filter((k) => ownerOf(k) === 1));
    expect(s.stats.retries).toBeGreaterThan(0);
    expect(s.stats).toMatchObject({ journaled: 0, serversDown: 0 });
  });
});

describe('journal across a sink restart (process restart)', () => {
  it('a journal left by one sink is replayed by the next before the server is used', async () => {
    const port = await freePort(); // nothing listens here yet
    const address = `127.0.0.1:${port}`;
    const first = new MemcachedSink({
      servers: [address],
      timeoutMs: 300,
      attemptsBeforeDown: 2,
      backoff: { initialMs: 10, maxMs: 20 },
      probeBackoff: { initialMs: 60_000, maxMs: 60_000 },
      journalDir,
      log: testLogger(),
    });
    sinks.push(first);
    const keys = ['j:1', 'j:2', 'j:3', 'j:2'];
    await first.deliver({ transactions: [], keys }, never);
    expect(first.stats.journaled).toBe(3);
    await first.close();

    const server = await ts.start('late', { port, verbose: true });
    ts.servers.push(server);
    const second = new MemcachedSink({ servers: [address], timeoutMs: 300, journalDir, log: testLogger() });
    sinks.push(second);
    await second.start();
    await waitFor('replayed', () => (second.serverStatus()[0]?.state === 'up' ? true : undefined));
    expect(await deletesInLog(server)).toEqual(['j:1', 'j:2', 'j:3']);
    expect(second.stats.replayed).toBe(3);
  });
});
