/** getOrLoad against a recording in-memory memcached: what is read, loaded, filled (always add), and counted. */
import { describe, expect, it } from 'vitest';
import {
  TOMBSTONE_VALUE,
  createReadThroughStats,
  decodeEnvelope,
  encodeEnvelope,
  getOrLoad,
  type ReadThroughClient,
} from '../../../src/app/index.js';

class FakeCache implements ReadThroughClient {
  readonly store = new Map<string, Buffer>();
  readonly calls: string[] = [];
  failGet = false;
  failAdd = false;

  get(key: string): Promise<{ value: Buffer | null }> {
    this.calls.push(`get ${key}`);
    if (this.failGet) return Promise.reject(new Error('ECONNREFUSED'));
    return Promise.resolve({ value: this.store.get(key) ?? null });
  }

  add(key: string, value: string, o: { expires?: number }): Promise<boolean> {
    this.calls.push(`add ${key} ${o.expires}`);
    if (this.failAdd) return Promise.reject(new Error('E2BIG'));
    if (this.store.has(key)) return Promise.resolve(false);
    this.store.set(key, Buffer.from(value, 'utf8'));
    return Promise.resolve(true);
  }
}

function loader<T>(value: T) {
  const calls = { n: 0 };
  return { calls, load: () => (calls.n++, Promise.resolve(value)) };
}

describe('getOrLoad', () => {
  it('a miss loads once and fills with add; the next read is a hit that does not load', async () => {
    const c = new FakeCache();
    const stats = createReadThroughStats();
    const l = loader({ name: 'Monkey', tags: ['a'] });
    expect(await getOrLoad(c, 'user:1', l.load, { ttl: 60, stats })).toEqual({ name: 'Monkey', tags: ['a'] });
    expect(await getOrLoad(c, 'user:1', l.load, { ttl: 60, stats })).toEqual({ name: 'Monkey', tags: ['a'] });
    expect(l.calls.n).toBe(1);
    expect(c.calls).toEqual(['get user:1', 'add user:1 60', 'get user:1']);
    expect(c.store.get('user:1')?.toString()).toBe('{"ct":1,"t":"json","d":{"name":"Monkey","tags":["a"]}}');
    expect(stats).toMatchObject({ misses: 1, fills: 1, hits: 1, tombstones: 0, corrupt: 0 });
  });

  it('a tombstone is a miss: loads, does not fill, and the tombstone stays', async () => {
    const c = new FakeCache();
    c.store.set('user:1', TOMBSTONE_VALUE);
    const stats = createReadThroughStats();
    expect(await getOrLoad(c, 'user:1', () => 'fresh', { ttl: 60, stats })).toBe('fresh');
    expect(c.calls).toEqual(['get user:1']);
    expect(c.store.get('user:1')).toEqual(TOMBSTONE_VALUE);
    expect(stats).toMatchObject({ tombstones: 1, fills: 0, hits: 0 });
  });

  it('a fill that finds the key taken (the tombstone arrived meanwhile) stores nothing and is counted', async () => {
    const c = new FakeCache();
    const stats = createReadThroughStats();
    const value = await getOrLoad(
      c,
      'user:1',
      () => {
        c.store.set('user:1', TOMBSTONE_VALUE); // the tailer's hold-off write, while we read the replica
        return 'stale';
      },
      { ttl: 60, stats },
    );
    expect(value).toBe('stale');
    expect(c.store.get('user:1')).toEqual(TOMBSTONE_VALUE);
    expect(stats).toMatchObject({ misses: 1, fillsRefused: 1, fills: 0 });
  });

  it('anything but our envelope of this type is a miss, counted, and left alone', async () => {
    const stored = [
      Buffer.from('not json'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"just a string"'),
      Buffer.from('[1,2]'),
      Buffer.from('{"ct":2,"t":"json","d":1}'),
      Buffer.from('{"ct":1,"t":"json"}'),
      Buffer.from('{"ct":1,"t":"other","d":1}'),
      Buffer.from('{"ct":1,"t":"json","d":"wrong shape"}'),
      Buffer.from(`\u0000cachetail:tombstone:v2\u0000`),
    ];
    const isNumber = (v: unknown): v is number => typeof v === 'number';
    for (const value of stored) {
      const c = new FakeCache();
      c.store.set('k', value);
      const stats = createReadThroughStats();
      expect(await getOrLoad(c, 'k', () => 7, { ttl: 60, stats, validate: isNumber })).toBe(7);
      expect(stats).toMatchObject({ corrupt: 1, hits: 0, fills: 0 });
      expect(c.store.get('k')).toEqual(value);
    }
  });

  it('memcached failing never fails the read: a failed get loads without filling, a failed add is counted', async () => {
    const c = new FakeCache();
    c.failGet = true;
    const stats = createReadThroughStats();
    expect(await getOrLoad(c, 'k', () => 1, { ttl: 60, stats })).toBe(1);
    c.failGet = false;
    c.failAdd = true;
    expect(await getOrLoad(c, 'k', () => 2, { ttl: 60, stats })).toBe(2);
    expect(stats).toMatchObject({ getErrors: 1, fillErrors: 1, misses: 1 });
    expect(c.calls).toEqual(['get k', 'get k', 'add k 60']);
  });

  it('does not cache what JSON cannot represent exactly', async () => {
    const c = new FakeCache();
    const stats = createReadThroughStats();
    expect(await getOrLoad(c, 'k', () => undefined, { ttl: 60, stats })).toBeUndefined();
    expect(await getOrLoad(c, 'k', () => 10n, { ttl: 60, stats })).toBe(10n);
    expect(stats.unserializable).toBe(2);
    expect(c.store.size).toBe(0);
    // null is a value (a cached "not found").
    expect(await getOrLoad(c, 'k', () => null, { ttl: 60, stats })).toBeNull();
    expect(await getOrLoad(c, 'k', () => 'reloaded', { ttl: 60, stats })).toBeNull();
  });

  it('validates the key and the ttl (memcached reads a ttl over 30 days as a unix time)', async () => {
    const c = new FakeCache();
    for (const key of ['', 'a b', 'x'.repeat(251), 'tab\t']) {
      await expect(getOrLoad(c, key, () => 1, { ttl: 60 })).rejects.toMatchObject({
        code: 'ANNOTATION_INVALID_KEY',
      });
    }
    for (const ttl of [0, -1, 1.5, 30 * 24 * 3600 + 1, NaN]) {
      await expect(getOrLoad(c, 'k', () => 1, { ttl })).rejects.toMatchObject({ code: 'INVALIDATION_USAGE' });
    }
    expect(c.calls).toEqual([]);
  });

  it('type tags keep values of different types apart', async () => {
    const c = new FakeCache();
    await getOrLoad(c, 'k', () => ({ v: 1 }), { ttl: 60, type: 'profile@1' });
    const stats = createReadThroughStats();
    expect(await getOrLoad(c, 'k', () => ({ v: 2 }), { ttl: 60, type: 'profile@2', stats })).toEqual({
      v: 2,
    });
    expect(stats.corrupt).toBe(1);
  });
});

describe('the envelope', () => {
  it('round-trips JSON data and keeps __proto__ an own property', () => {
    const body = encodeEnvelope('t', { a: [1, 'é', null], b: { c: true } })!;
    expect(decodeEnvelope('t', Buffer.from(body))).toEqual({
      ok: true,
      value: { a: [1, 'é', null], b: { c: true } },
    });
    const evil = decodeEnvelope('t', Buffer.from('{"ct":1,"t":"t","d":{"__proto__":{"polluted":1}}}'));
    expect(evil.ok).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(encodeEnvelope('t', () => 1)).toBeNull();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(encodeEnvelope('t', cyclic)).toBeNull();
  });
});
