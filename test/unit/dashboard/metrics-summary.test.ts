/** The dashboard's figures from a real prom-client registry: quantiles, per-bucket counts, the rate. */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RateWindow, quantile, summarizeMetrics } from '../../../src/dashboard/index.js';
import { LATENCY_BUCKETS, createTailerMetrics } from '../../../src/observability/metrics.js';

describe('quantile (histogram_quantile)', () => {
  const cumulative = [
    { le: 0.1, count: 2 },
    { le: 0.5, count: 6 },
    { le: 1, count: 8 },
    { le: Infinity, count: 10 },
  ];

  it('interpolates linearly inside the bucket holding the rank, from 0 in the first bucket', () => {
    expect(quantile(0.1, cumulative)).toBeCloseTo(0.05, 12); // rank 1: 1st of 2 in [0, 0.1]
    expect(quantile(0.05, cumulative)).toBeCloseTo(0.025, 12);
    expect(quantile(0.5, cumulative)).toBeCloseTo(0.1 + 0.4 * (3 / 4), 12); // rank 5: 3rd of 4 in (0.1, 0.5]
    expect(quantile(0.7, cumulative)).toBeCloseTo(0.5 + 0.5 * (1 / 2), 12);
  });

  it('answers the largest finite bound for a rank in +Inf, and null when empty', () => {
    expect(quantile(0.99, cumulative)).toBe(1);
    expect(
      quantile(0.5, [
        { le: 1, count: 0 },
        { le: Infinity, count: 0 },
      ]),
    ).toBeNull();
  });
});

describe('RateWindow', () => {
  it('is 0 with one sample, then total change over the time since the oldest sample in the window', () => {
    const rate = new RateWindow(10_000);
    expect(rate.observe(1_000, 5)).toEqual([0, 0]);
    expect(rate.observe(2_000, 15)).toEqual([10, 1]);
    expect(rate.observe(3_000, 15)).toEqual([5, 2]);
  });

  it('measures from the newest sample at least a window old, forgetting older ones', () => {
    const rate = new RateWindow(10_000);
    rate.observe(0, 0);
    rate.observe(5_000, 100);
    rate.observe(10_000, 100);
    // At 16 s: 5 s is the newest sample ≥ 10 s old, so 0 s is dropped and nothing changed since 5 s.
    expect(rate.observe(16_000, 100)).toEqual([0, 11]);
    // At 21 s: measured from 10 s.
    expect(rate.observe(21_000, 150)).toEqual([50 / 11, 11]);
  });

  it('starts over when the counter goes down (the process restarted)', () => {
    const rate = new RateWindow(10_000);
    rate.observe(0, 50);
    expect(rate.observe(1_000, 3)).toEqual([0, 0]);
    expect(rate.observe(2_000, 7)).toEqual([4, 1]);
  });
});

describe('summarizeMetrics', () => {
  it('reads totals by result, counters, and both latency histograms per bucket', async () => {
    const registry = new Registry();
    const m = createTailerMetrics(registry, { servers: ['10.0.0.1:11211'] });
    m.keysInvalidated.inc('deleted', 3);
    m.keysInvalidated.inc('not_found', 2);
    m.transactions.inc(4);
    m.transactionsWithKeys.inc(3);
    m.deleteErrors.inc('10.0.0.1:11211');
    m.reconnects.inc('network');
    // Commit 300 ms before the acknowledgement, writer 20 ms before it.
    m.acknowledged([{ commitTimeMs: 10_000, writerTimeMs: 10_280 }], 10_300);

    const s = await summarizeMetrics(registry, new RateWindow(), 1_000);
    expect(s.keysByResult).toEqual({ deleted: 3, not_found: 2, tombstoned: 0, journaled: 0 });
    expect(s.keysInvalidated).toBe(5);
    expect(s.transactions).toBe(4);
    expect(s.transactionsWithKeys).toBe(3);
    expect(s.deleteErrors).toBe(1);
    expect(s.reconnects).toBe(1);
    expect(s.gapEvents).toBe(0);
    expect(s.invalidationsPerSecond).toBe(0);

    const inv = s.invalidationLatency!;
    expect(inv.count).toBe(1);
    expect(inv.sumSeconds).toBeCloseTo(0.3, 9);
    expect(inv.buckets.map((b) => b.le)).toEqual([...LATENCY_BUCKETS, null]);
    // 0.3 s falls in (0.25, 0.5]: that bucket alone holds the observation.
    expect(inv.buckets.filter((b) => b.count > 0)).toEqual([{ le: 0.5, count: 1 }]);
    const e2e = s.endToEndLatency!;
    expect(e2e.buckets.filter((b) => b.count > 0)).toEqual([{ le: 0.025, count: 1 }]);
    expect(e2e.p50).toBeCloseTo(0.01 + 0.015 * 0.5, 12);
  });

  it("rates on the tailer's own acknowledged-key count when given", async () => {
    const registry = new Registry();
    createTailerMetrics(registry);
    const rate = new RateWindow();
    expect((await summarizeMetrics(registry, rate, 0, 10)).keysInvalidated).toBe(10);
    const later = await summarizeMetrics(registry, rate, 2_000, 30);
    expect(later.keysInvalidated).toBe(30);
    expect(later.invalidationsPerSecond).toBe(10);
    expect(later.rateWindowSeconds).toBe(2);
  });

  it('answers null histograms for a registry without the tailer metrics', async () => {
    const s = await summarizeMetrics(new Registry(), new RateWindow(), 0);
    expect(s.invalidationLatency).toBeNull();
    expect(s.endToEndLatency).toBeNull();
    expect(s.keysInvalidated).toBe(0);
    expect(s.keysByResult).toEqual({});
  });
});
