import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createConsistencySampler, samplerConfigSchema, type CacheRead } from '../../../src/sampler/index.js';

describe('consistency sampler', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000_000);
  });
  afterEach(() => vi.useRealTimers());

  it('checks 1 in N keys at each delay and reports exact per-delay fractions', async () => {
    const cache = new Map<string, CacheRead>();
    const truth = new Map<string, string | null>();
    const warnings: object[] = [];
    const registry = new Registry();
    const s = createConsistencySampler({
      every: 2,
      delaysMs: [1000, 10_000],
      readCache: (k) => Promise.resolve(cache.get(k) ?? { state: 'absent' }),
      readTruth: (k) => Promise.resolve(truth.get(k) ?? null),
      log: { warn: (obj) => warnings.push(obj) },
      registry,
    });
    // Keys 0..5: the sampler takes k0, k2, k4 (counter, 1 in 2).
    s.observe(
      [
        { gtid: '0-1-7', commitTimeMs: 999_000, keys: ['k0', 'k1', 'k2'] },
        { gtid: '0-1-8', commitTimeMs: 999_000, keys: ['k3', 'k4', 'k5'] },
      ],
      1_000_000,
    );
    cache.set('k0', { state: 'tombstone' });
    cache.set('k2', { state: 'value', value: 'old' });
    truth.set('k2', 'new');
    cache.set('k4', { state: 'value', value: 'same' });
    truth.set('k4', 'same');
    await vi.advanceTimersByTimeAsync(1000);
    // By 10 s the stale key was invalidated again (absent); k4's row moved on and its cache did not
    // follow yet: stale at that check, but it was consistent within 1 s of its own invalidation.
    cache.delete('k2');
    truth.set('k4', 'newer');
    await vi.advanceTimersByTimeAsync(9000);
    await s.drain();

    const r = s.report();
    expect(r).toEqual({
      every: 2,
      keysSeen: 6,
      sampled: 3,
      skipped: 0,
      pending: 0,
      delays: [
        {
          delayMs: 1000,
          checks: 3,
          consistent: 2,
          stale: 1,
          errors: 0,
          within: { consistent: 2, stale: 1, errors: 0 },
          fraction: 2 / 3,
        },
        {
          delayMs: 10_000,
          checks: 3,
          consistent: 2,
          stale: 1,
          errors: 0,
          within: { consistent: 3, stale: 0, errors: 0 },
          fraction: 1,
        },
      ],
    });
    expect(warnings).toEqual([
      {
        key: 'k2',
        gtid: '0-1-7',
        delayMs: 1000,
        commitTimeMs: 999_000,
        ackTimeMs: 1_000_000,
        checkedAt: 1_001_000,
        sinceAckMs: 1000,
        cache: 'old',
        truth: ['new', 'new'],
      },
      {
        key: 'k4',
        gtid: '0-1-8',
        delayMs: 10_000,
        commitTimeMs: 999_000,
        ackTimeMs: 1_000_000,
        checkedAt: 1_010_000,
        sinceAckMs: 10_000,
        cache: 'same',
        truth: ['newer', 'newer'],
      },
    ]);
    const metrics = await registry.metrics();
    expect(metrics).toContain('cachetail_consistency_checks_total{delay="1s",result="stale"} 1');
    expect(metrics).toContain('cachetail_consistency_checks_total{delay="1s",result="consistent"} 2');
    expect(metrics).toContain('cachetail_consistency_checks_total{delay="10s",result="consistent"} 2');
    expect(metrics).toContain('cachetail_consistency_checks_total{delay="10s",result="stale"} 1');
    expect(metrics).toContain('cachetail_consistency_fraction{delay="10s"} 1');
    expect(metrics).toContain('cachetail_consistency_samples_total{outcome="sampled"} 3');
  });

  it('a cached value equal to the row before or after the cache read is consistent (write during check)', async () => {
    const truthReads = ['v1', 'v2'];
    const s = createConsistencySampler({
      every: 1,
      delaysMs: [0],
      // The row changed from v1 to v2 between the reads; the cache held v2 (already refilled).
      readTruth: () => Promise.resolve(truthReads.shift() ?? 'v2'),
      readCache: () => Promise.resolve({ state: 'value', value: 'v2' }),
    });
    s.observe([{ keys: ['a'] }]);
    await vi.advanceTimersByTimeAsync(0);
    await s.drain();
    expect(s.report().delays[0]).toMatchObject({ consistent: 1, stale: 0 });
  });

  it('counts callback failures as errors, not as consistent or stale', async () => {
    const s = createConsistencySampler({
      every: 1,
      delaysMs: [5],
      check: () => Promise.reject(new Error('memcached down')),
    });
    s.observe([{ keys: ['a', 'b'] }]);
    await vi.advanceTimersByTimeAsync(5);
    await s.drain();
    expect(s.report().delays).toEqual([
      {
        delayMs: 5,
        checks: 2,
        consistent: 0,
        stale: 0,
        errors: 2,
        within: { consistent: 0, stale: 0, errors: 2 },
        fraction: null,
      },
    ]);
  });

  it('a check that never answers is an error after checkTimeoutMs, and frees its key', async () => {
    const s = createConsistencySampler({
      every: 1,
      delaysMs: [0],
      checkTimeoutMs: 50,
      check: () => new Promise<never>(() => undefined),
    });
    s.observe([{ keys: ['a'] }]);
    await vi.advanceTimersByTimeAsync(60);
    await s.drain();
    expect(s.report()).toMatchObject({
      pending: 0,
      delays: [{ checks: 1, consistent: 0, stale: 0, errors: 1 }],
    });
  });

  it('skips samples above maxPending and stop() cancels armed checks', async () => {
    const check = vi.fn(() => Promise.resolve('consistent' as const));
    const s = createConsistencySampler({ every: 1, delaysMs: [1000], maxPending: 2, check });
    s.observe([{ keys: ['a', 'b', 'c'] }]);
    expect(s.report()).toMatchObject({ sampled: 2, skipped: 1, pending: 2 });
    s.stop();
    await vi.advanceTimersByTimeAsync(2000);
    await s.drain();
    expect(check).not.toHaveBeenCalled();
    expect(s.report().pending).toBe(0);
  });

  it('config section: defaults and validation', () => {
    expect(samplerConfigSchema.parse(undefined)).toEqual({
      enabled: false,
      every: 100,
      delaysMs: [1000, 10_000, 60_000],
      maxPending: 10_000,
      cacheFormat: 'envelope',
      envelopeType: 'json',
    });
    expect(samplerConfigSchema.safeParse({ every: 0 }).success).toBe(false);
    expect(samplerConfigSchema.safeParse({ delaysMs: [] }).success).toBe(false);
    expect(samplerConfigSchema.safeParse({ bogus: 1 }).success).toBe(false);
  });
});
