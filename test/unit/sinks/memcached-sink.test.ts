import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/logger.js';
import { journalPath } from '../../../src/sinks/memcached/journal.js';
import { memjsHash } from '../../../src/sinks/memcached/hashing.js';
import { MemcachedSink, type MemcachedSinkOptions } from '../../../src/sinks/memcached/sink.js';
import type { InvalidationBatch } from '../../../src/sinks/sink.js';
import { waitFor } from '../../helpers/wait.js';
import { FakeMemcached } from './fake-memcached.js';

const SERVERS = ['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211'];
const serverOf = (key: string) => memjsHash(key) % 3;
const batch = (keys: string[]): InvalidationBatch => ({ transactions: [], keys });
const never = new AbortController().signal;

/** Keys that memjs routes to server `i`, `n` of them, named `${prefix}N`. */
function keysFor(i: number, n: number, prefix = 'k'): string[] {
  const out: string[] = [];
  for (let j = 0; out.length < n; j++) if (serverOf(`${prefix}${j}`) === i) out.push(`${prefix}${j}`);
  return out;
}

let dir: string;
let logs: { msg: string; server?: string }[];
let fakes: FakeMemcached[];
let sinks: MemcachedSink[];

function makeSink(extra: Partial<MemcachedSinkOptions> = {}): MemcachedSink {
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(JSON.parse(chunk.toString()) as { msg: string });
      done();
    },
  });
  fakes = [];
  const sink = new MemcachedSink({
    servers: SERVERS,
    timeoutMs: 100,
    log: createLogger('debug', stream),
    journalDir: dir,
    backoff: { initialMs: 1, maxMs: 2 },
    probeBackoff: { initialMs: 5, maxMs: 10 },
    connect: (server) => {
      const fake = new FakeMemcached(server);
      fakes.push(fake);
      return fake;
    },
    ...extra,
  });
  sinks.push(sink);
  return sink;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cachetail-sink-unit-'));
  logs = [];
  sinks = [];
});
afterEach(async () => {
  for (const s of sinks) await s.close();
  await rm(dir, { recursive: true, force: true });
});

describe('delivery', () => {
  it('de-duplicates, routes each key to its memjs server, counts deleted and not found', async () => {
    const sink = makeSink();
    const keys = ['user:1', 'user:2', 'user:3', 'user:1', 'post:9', 'user:2', 'team:4'];
    fakes.forEach((f) => f.store.set('user:1', 'v'));
    await sink.deliver(batch(keys), never);
    const unique = ['user:1', 'user:2', 'user:3', 'post:9', 'team:4'];
    expect(fakes.map((f) => f.keys())).toEqual([0, 1, 2].map((i) => unique.filter((k) => serverOf(k) === i)));
    expect(sink.stats).toMatchObject({ deleted: 1, notFound: 4, errors: 0, journaled: 0 });
  });

  it('splits a server share into pipelined groups of groupKeys', async () => {
    const sink = makeSink({ servers: ['a:1'], groupKeys: 1000 });
    const keys = Array.from({ length: 2500 }, (_, i) => `k${i}`);
    await sink.deliver(batch(keys), never);
    expect(fakes[0].applied.map((g) => g.keys.length)).toEqual([1000, 1000, 500]);
    expect(fakes[0].keys()).toEqual(keys);
  });

  it('keeps at most groupsInFlight groups outstanding per server', async () => {
    const sink = makeSink({ servers: ['a:1'], groupKeys: 10, groupsInFlight: 4 });
    await sink.start();
    fakes[0].delayMs = 5;
    const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
    await sink.deliver(batch(keys), never);
    expect({ max: fakes[0].maxInFlight, groups: fakes[0].applied.length }).toEqual({ max: 4, groups: 20 });
    expect(fakes[0].keys()).toEqual(keys);
  });

  it('after a connection failure the rest of the groups are not sent into it', async () => {
    const sink = makeSink({ servers: ['a:1'], groupKeys: 10, groupsInFlight: 4, attemptsBeforeDown: 1 });
    await sink.start();
    fakes[0].mode = 'hang';
    await sink.deliver(batch(Array.from({ length: 200 }, (_, i) => `k${i}`)), never);
    expect(fakes[0].sendsOf.delete).toBe(4);
    expect(sink.stats).toMatchObject({ errors: 200, timeouts: 1, journaled: 200 });
  });

  it('broadcast sends every key to every server', async () => {
    const sink = makeSink({ hashing: 'broadcast' });
    await sink.deliver(batch(['a', 'b', 'a']), never);
    expect(fakes.map((f) => f.keys())).toEqual([
      ['a', 'b'],
      ['a', 'b'],
      ['a', 'b'],
    ]);
  });

  it('never sends keys memcached cannot hold; counts and logs them', async () => {
    const sink = makeSink({ servers: ['a:1'] });
    await sink.deliver(batch(['', 'ok', 'x'.repeat(251), 'é'.repeat(125), 'é'.repeat(126)]), never);
    expect(fakes[0].keys()).toEqual(['ok', 'é'.repeat(125)]);
    expect(sink.stats.rejected).toBe(3);
    expect(logs.filter((l) => l.msg.startsWith('keys memcached cannot store'))).toHaveLength(1);
  });

  it('retries a failed attempt with backoff and succeeds without journaling', async () => {
    const sink = makeSink({ servers: ['a:1'] });
    await sink.start();
    const fake = fakes[0];
    fake.failNextSends = 2;
    await sink.deliver(batch(['a', 'b']), never);
    expect(fake.sends).toBe(3);
    expect(fake.keys()).toEqual(['a', 'b']);
    expect(sink.stats).toMatchObject({ errors: 4, retries: 4, journaled: 0, serversDown: 0, notFound: 2 });
  });

  it('hold-off mode writes tombstones with the TTL; a refused tombstone becomes a delete', async () => {
    const sink = makeSink({ servers: ['a:1'], holdOff: { ttlSeconds: 7 } });
    await sink.start();
    fakes[0].statusFor.set('full', 0x82);
    fakes[0].store.set('full', 'old');
    await sink.deliver(batch(['a', 'full']), never);
    expect(fakes[0].applied).toEqual([
      { kind: 'tombstone', keys: ['a', 'full'], ttlSeconds: 7 },
      { kind: 'delete', keys: ['full'] },
    ]);
    expect(fakes[0].store.get('a')).toBe('TOMBSTONE');
    expect(fakes[0].store.has('full')).toBe(false);
    expect(sink.stats).toMatchObject({ tombstoned: 1, tombstoneFallbacks: 1, deleted: 1 });
  });

  it('without a journal dir, a down server fails the delivery after `retries` attempts', async () => {
    const sink = makeSink({ servers: ['a:1'], journalDir: undefined, retries: 3 });
    await sink.start();
    fakes[0].mode = 'refuse';
    await expect(sink.deliver(batch(['a']), never)).rejects.toMatchObject({ code: 'MEMCACHED_UNAVAILABLE' });
    expect(fakes[0].sends).toBe(3);
  });

  it('an aborted delivery rejects with the abort reason', async () => {
    const sink = makeSink({ servers: ['a:1'], backoff: { initialMs: 10_000, maxMs: 10_000 } });
    await sink.start();
    fakes[0].mode = 'refuse';
    const ac = new AbortController();
    const p = sink.deliver(batch(['a']), ac.signal);
    setTimeout(() => ac.abort(new Error('stopping')), 10);
    await expect(p).rejects.toThrow('stopping');
  });
});

async function journalKeys(address: string): Promise<string[]> {
  const text = await readFile(journalPath(dir, address), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.startsWith('"'))
    .map((l) => JSON.parse(l) as string);
}

describe('a server that goes down', () => {
  it('is journaled after attemptsBeforeDown; the others are not held up; replayed exactly on return', async () => {
    const sink = makeSink({ attemptsBeforeDown: 2 });
    await sink.start();
    const [a, b, c] = fakes as [FakeMemcached, FakeMemcached, FakeMemcached];
    b.mode = 'refuse';
    const first = [...keysFor(0, 2, 'x'), ...keysFor(1, 3, 'x'), ...keysFor(2, 2, 'x')];
    await sink.deliver(batch(first), never);
    expect(b.sendsOf.delete).toBe(2); // attemptsBeforeDown
    expect(sink.serverStatus().map((s) => s.state)).toEqual(['up', 'down', 'up']);
    // While down, its keys go straight to the journal: no further sends to it from deliveries.
    const second = [...keysFor(1, 2, 'y'), ...keysFor(1, 1, 'x'), ...keysFor(0, 1, 'y')];
    b.mode = 'hang'; // probes keep failing, now by timeout
    await sink.deliver(batch(second), never);
    expect(a.keys()).toEqual([...keysFor(0, 2, 'x'), ...keysFor(0, 1, 'y')]);
    expect(c.keys()).toEqual(keysFor(2, 2, 'x'));
    const journaled = [...keysFor(1, 3, 'x'), ...keysFor(1, 2, 'y'), ...keysFor(1, 1, 'x')];
    expect(await journalKeys(SERVERS[1])).toEqual(journaled);
    expect(sink.stats).toMatchObject({ journaled: 6, serversDown: 1, replayed: 0 });
    expect(b.applied).toEqual([]);
    expect(b.sendsOf.delete).toBe(2); // nothing sent to it while down but probes

    b.mode = 'up';
    await waitFor('server b back', () => (sink.serverStatus()[1].state === 'up' ? true : undefined));
    // Replayed once per distinct key, in journal order; the journal file is gone.
    expect(b.keys()).toEqual(keysFor(1, 3, 'x').concat(keysFor(1, 2, 'y')));
    expect(sink.stats).toMatchObject({ replayed: 5, serversRecovered: 1, flushes: 0 });
    await waitFor('journal removed', async () => ((await readdir(dir)).length === 0 ? true : undefined));
    // Back in service: deliveries go to it directly again.
    await sink.deliver(batch(keysFor(1, 1, 'z')), never);
    expect(b.keys().slice(-1)).toEqual(keysFor(1, 1, 'z'));
  });

  it('flush policy: records one durable !flush instead of keys, flushes before reuse', async () => {
    const sink = makeSink({ attemptsBeforeDown: 1, onServerRecovery: 'flush' });
    await sink.start();
    const b = fakes[1];
    b.store.set('survivor', 'stale?');
    b.mode = 'refuse';
    await sink.deliver(batch(keysFor(1, 4, 'x')), never);
    await sink.deliver(batch(keysFor(1, 2, 'y')), never);
    expect(await readFile(journalPath(dir, SERVERS[1]), 'utf8')).toBe(
      `# cachetail memcached journal v1 ${SERVERS[1]}\n!flush\n`,
    );
    expect(sink.stats).toMatchObject({ coveredByFlush: 6, journaled: 0 });
    b.mode = 'up';
    await waitFor('server b back', () => (sink.serverStatus()[1].state === 'up' ? true : undefined));
    expect(b.applied).toEqual([{ kind: 'flush', keys: [] }]);
    expect(b.store.size).toBe(0);
    expect(sink.stats).toMatchObject({ flushes: 1, replayed: 0 });
  });

  it('a journal over its size bound switches to !flush', async () => {
    const sink = makeSink({ attemptsBeforeDown: 1, maxJournalBytesPerServer: 100 });
    await sink.start();
    fakes[1].mode = 'refuse';
    const keys = keysFor(1, 12, 'long-key-name-');
    await sink.deliver(batch(keys.slice(0, 6)), never); // > 100 bytes with the header
    await sink.deliver(batch(keys.slice(6)), never);
    expect(sink.stats).toMatchObject({ journaled: 6, coveredByFlush: 6 });
    fakes[1].mode = 'up';
    await waitFor('server b back', () => (sink.serverStatus()[1].state === 'up' ? true : undefined));
    expect(fakes[1].applied).toEqual([{ kind: 'flush', keys: [] }]);
  });
});

describe('journal across restarts', () => {
  it('a new sink replays the previous run’s journal before using the server', async () => {
    const first = makeSink({ attemptsBeforeDown: 1 });
    await first.start();
    fakes[2].mode = 'refuse';
    const keys = keysFor(2, 3, 'r');
    await first.deliver(batch(keys), never);
    await first.close();

    const second = makeSink();
    await second.start();
    await waitFor('replayed', () => (second.serverStatus()[2].state === 'up' ? true : undefined));
    expect(fakes[2].keys()).toEqual(keys);
    expect(second.stats.replayed).toBe(3);
    expect(logs.some((l) => l.msg.startsWith('journal from a previous run'))).toBe(true);
  });

  it('a torn last line is dropped; an unreadable line forces a flush', async () => {
    const path = journalPath(dir, SERVERS[0]);
    await writeFile(path, `# cachetail memcached journal v1 ${SERVERS[0]}\n"a"\n"b"\n"tor`);
    const sink = makeSink();
    await sink.start();
    await waitFor('replayed', () => (sink.serverStatus()[0].state === 'up' ? true : undefined));
    expect(fakes[0].applied).toEqual([{ kind: 'delete', keys: ['a', 'b'] }]);

    await writeFile(path, `# cachetail memcached journal v1 ${SERVERS[0]}\n"a"\ngarbage\n"b"\n`);
    const again = makeSink();
    await again.start();
    await waitFor('recovered', () => (again.serverStatus()[0].state === 'up' ? true : undefined));
    expect(fakes[0].applied).toEqual([{ kind: 'flush', keys: [] }]);
  });

  it('a journal of a server no longer configured is re-routed to the current servers', async () => {
    await writeFile(
      journalPath(dir, 'old:11211'),
      `# cachetail memcached journal v1 old:11211\n"o1"\n"o2"\n"o3"\n`,
    );
    const sink = makeSink();
    await sink.start();
    expect(fakes.map((f) => f.keys())).toEqual(
      [0, 1, 2].map((i) => ['o1', 'o2', 'o3'].filter((k) => serverOf(k) === i)),
    );
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('a journal that cannot be written', () => {
  it('at start: a clear error naming the directory', async () => {
    const file = join(dir, 'file');
    await writeFile(file, '');
    const sink = makeSink({ journalDir: file });
    await expect(sink.start()).rejects.toMatchObject({
      code: 'MEMCACHED_JOURNAL_UNUSABLE',
      message: expect.stringContaining(`memcached journal directory ${file}: ENOTDIR`),
    });
  });

  it('holds the delivery (never resolves having lost keys) until the server answers again', async () => {
    const state = join(dir, 'state');
    const sink = makeSink({ servers: ['a:1'], journalDir: state, attemptsBeforeDown: 1 });
    await sink.start();
    await writeFile(state, ''); // as good as a full disk: no journal file can be created
    fakes[0].mode = 'refuse';
    let settled = false;
    const p = sink.deliver(batch(['k1', 'k2']), never).then(() => (settled = true));
    await waitFor('journal errors', () => (sink.stats.journalErrors >= 2 ? true : undefined));
    expect(settled).toBe(false);
    expect(
      logs.some(
        (l) => l.msg === 'cannot journal deletes for a down memcached server; holding the checkpoint',
      ),
    ).toBe(true);
    fakes[0].mode = 'up';
    await p;
    expect(fakes[0].keys()).toEqual(['k1', 'k2']);
    expect(sink.stats.journaled).toBe(0);
  });
});
