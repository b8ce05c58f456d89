/**
 * Each hashing mode against three real memcached servers: every key is first stored on *every* server,
 * so a delete sent to the wrong server would show up as a missing copy. Owners are computed by the app
 * clients' own code — memjs's hash, and the node `memcached` client's ring (hashring), which agrees with
 * libmemcached for these weights (test/unit/sinks/hashing.test.ts) — not by the code under test.
 */
import { createRequire } from 'node:module';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemcachedSink } from '../../src/sinks/memcached/sink.js';
import type { HashingMode } from '../../src/sinks/memcached/routing.js';
import { presentKeys, setAll, startTestServers, testLogger, type TestServers } from './memcached-support.js';

const require = createRequire(import.meta.url);
const memjsUtils = require('memjs/lib/memjs/utils') as { hashCode(s: string): number };
type HashRingCtor = new (
  servers: Record<string, number>,
  algorithm: string,
  options: Record<string, unknown>,
) => { get(key: string): string };
const HashRing = require('hashring') as HashRingCtor;

const never = new AbortController().signal;
const KEYS = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? `user:${i}` : `post:${i}:ünï`));
const INVALIDATED = KEYS.filter((_, i) => i % 4 !== 0); // the rest stay as controls
const WEIGHTS = [1, 2, 3];

let ts: TestServers;
let journalDir: string;

beforeAll(async () => {
  ts = await startTestServers(3);
  journalDir = await mkdtemp(join(tmpdir(), 'cachetail-routing-'));
});
afterAll(async () => {
  await ts?.stop();
  await rm(journalDir, { recursive: true, force: true });
});
beforeEach(async () => {
  await Promise.all(ts.direct.map((c) => c.flush()));
  await Promise.all(ts.direct.map((c) => setAll(c, KEYS)));
});

function owners(mode: HashingMode, key: string): number[] {
  const addresses = ts.servers.map((s) => s.address);
  switch (mode) {
    case 'memjs':
      return [memjsUtils.hashCode(key) % 3];
    case 'ketama': {
      const ring = new HashRing(Object.fromEntries(addresses.map((a, i) => [a, WEIGHTS[i]])), 'md5', {
        compatibility: 'ketama',
        'default port': 11211,
      });
      return [addresses.indexOf(ring.get(key))];
    }
    case 'broadcast':
      return [0, 1, 2];
  }
}

describe.each<HashingMode>(['memjs', 'ketama', 'broadcast'])('hashing %s on 3 real servers', (mode) => {
  it('deletes exactly the invalidated keys, each only on the server(s) that own it', async () => {
    const sink = new MemcachedSink({
      servers: ts.servers.map((s) => s.address),
      hashing: mode,
      weights: mode === 'ketama' ? WEIGHTS : undefined,
      timeoutMs: 2_000,
      journalDir,
      log: testLogger(),
    });
    try {
      // Duplicates within the batch are sent once.
      await sink.deliver({ transactions: [], keys: [...INVALIDATED, ...INVALIDATED.slice(0, 50)] }, never);
      const expected = [0, 1, 2].map((i) =>
        KEYS.filter((k) => !(INVALIDATED.includes(k) && owners(mode, k).includes(i))),
      );
      const actual = await Promise.all(ts.direct.map((c) => presentKeys(c, KEYS)));
      expect(actual).toEqual(expected);
      const copiesDeleted = INVALIDATED.length * (mode === 'broadcast' ? 3 : 1);
      expect(sink.stats).toMatchObject({ deleted: copiesDeleted, notFound: 0, errors: 0, journaled: 0 });
      if (mode !== 'broadcast') {
        // Every server got a share (so the test would notice a constant mapping).
        expect(expected.map((present) => present.length < KEYS.length)).toEqual([true, true, true]);
      }
    } finally {
      await sink.close();
    }
  });
});
