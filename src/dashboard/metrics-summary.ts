/**
 * The dashboard's figures, read from the tailer's Prometheus registry (the same numbers /metrics
 * serves, so the page and Grafana never disagree): totals, invalidations per second over a short
 * window, and the latency histograms as per-bucket counts with estimated quantiles.
 */
import type { MetricObjectWithValues, MetricValue, Registry } from 'prom-client';

export interface HistogramBucket {
  /** Upper bound in seconds; null for +Inf. */
  le: number | null;
  /** Observations in this bucket alone (not cumulative). */
  count: number;
}

export interface HistogramSummary {
  count: number;
  sumSeconds: number;
  buckets: HistogramBucket[];
  /** Estimates as Prometheus' histogram_quantile computes them (linear within a bucket); null if empty. */
  p50: number | null;
  p99: number | null;
}

export interface MetricsSummary {
  /** cachetail_keys_invalidated_total by result. */
  keysByResult: Record<string, number>;
  /** Keys acknowledged by the sink: the tailer's own count when known, else the metric's sum. */
  keysInvalidated: number;
  transactions: number;
  transactionsWithKeys: number;
  deleteErrors: number;
  gapEvents: number;
  reconnects: number;
  /** Keys acknowledged per second over the rate window (0 until two samples exist). */
  invalidationsPerSecond: number;
  /** Seconds the rate was computed over (0 when it is not known yet). */
  rateWindowSeconds: number;
  invalidationLatency: HistogramSummary | null;
  endToEndLatency: HistogramSummary | null;
}

type Values = MetricValue<string>[];

function valuesOf(metrics: MetricObjectWithValues<MetricValue<string>>[], name: string): Values {
  return metrics.find((m) => m.name === name)?.values ?? [];
}

function sum(values: Values): number {
  return values.reduce((acc, v) => acc + v.value, 0);
}

/** Per-bucket counts from prom-client's cumulative `_bucket` series. */
export function histogramSummary(values: Values): HistogramSummary | null {
  const cumulative: { le: number; count: number }[] = [];
  let count = 0;
  let sumSeconds = 0;
  for (const v of values as (MetricValue<string> & { metricName?: string })[]) {
    const name = v.metricName ?? '';
    if (name.endsWith('_bucket')) {
      const le = v.labels.le;
      cumulative.push({ le: le === '+Inf' ? Infinity : Number(le), count: v.value });
    } else if (name.endsWith('_count')) count = v.value;
    else if (name.endsWith('_sum')) sumSeconds = v.value;
  }
  if (cumulative.length === 0) return null;
  cumulative.sort((a, b) => a.le - b.le);
  const buckets = cumulative.map((b, i) => ({
    le: Number.isFinite(b.le) ? b.le : null,
    count: b.count - (i > 0 ? cumulative[i - 1].count : 0),
  }));
  return {
    count,
    sumSeconds,
    buckets,
    p50: quantile(0.5, cumulative),
    p99: quantile(0.99, cumulative),
  };
}

/**
 * histogram_quantile's estimate: find the bucket holding the q-th observation and interpolate linearly
 * between its bounds (the first bucket starts at 0). In the +Inf bucket the answer is the largest
 * finite bound, as Prometheus does.
 */
export function quantile(q: number, cumulative: readonly { le: number; count: number }[]): number | null {
  const total = cumulative[cumulative.length - 1]?.count ?? 0;
  if (total === 0) return null;
  const rank = q * total;
  for (let i = 0; i < cumulative.length; i++) {
    const b = cumulative[i];
    if (b.count < rank) continue;
    const lower = i > 0 ? cumulative[i - 1] : { le: 0, count: 0 };
    if (!Number.isFinite(b.le)) return lower.le;
    const inBucket = b.count - lower.count;
    if (inBucket === 0) return b.le;
    return lower.le + ((b.le - lower.le) * (rank - lower.count)) / inBucket;
  }
  return null;
}

/**
 * Invalidations per second from successive totals. Each dashboard poll adds a sample; the rate is taken
 * against the oldest sample still inside the window, so it reacts within seconds and is 0 when idle.
 */
export class RateWindow {
  private samples: { at: number; total: number }[] = [];

  constructor(private readonly windowMs = 10_000) {}

  /** Adds a sample and returns [perSecond, windowSeconds]. */
  observe(at: number, total: number): [number, number] {
    const last = this.samples[this.samples.length - 1];
    // A counter only goes down when the process restarted: start over.
    if (last && total < last.total) this.samples = [];
    this.samples.push({ at, total });
    while (this.samples.length > 2 && at - this.samples[1].at >= this.windowMs) this.samples.shift();
    const first = this.samples[0];
    const seconds = (at - first.at) / 1000;
    if (seconds <= 0) return [0, 0];
    return [(total - first.total) / seconds, seconds];
  }
}

/**
 * `acknowledgedKeys` is the tailer's own running count of keys the sink acknowledged (/status
 * stats.keysDelivered); the rate uses it when given, else the cachetail_keys_invalidated_total sum.
 */
export async function summarizeMetrics(
  registry: Registry,
  rate: RateWindow,
  now: number,
  acknowledgedKeys?: number,
): Promise<MetricsSummary> {
  const metrics = await registry.getMetricsAsJSON();
  const keys = valuesOf(metrics, 'cachetail_keys_invalidated_total');
  const keysByResult: Record<string, number> = {};
  for (const v of keys) {
    const result = String(v.labels.result ?? 'other');
    keysByResult[result] = (keysByResult[result] ?? 0) + v.value;
  }
  const keysInvalidated = acknowledgedKeys ?? sum(keys);
  const [perSecond, windowSeconds] = rate.observe(now, keysInvalidated);
  return {
    keysByResult,
    keysInvalidated,
    transactions: sum(valuesOf(metrics, 'cachetail_transactions_total')),
    transactionsWithKeys: sum(valuesOf(metrics, 'cachetail_transactions_with_keys_total')),
    deleteErrors: sum(valuesOf(metrics, 'cachetail_delete_errors_total')),
    gapEvents: sum(valuesOf(metrics, 'cachetail_gap_events_total')),
    reconnects: sum(valuesOf(metrics, 'cachetail_reconnects_total')),
    invalidationsPerSecond: Math.round(perSecond * 100) / 100,
    rateWindowSeconds: Math.round(windowSeconds * 10) / 10,
    invalidationLatency: histogramSummary(valuesOf(metrics, 'cachetail_invalidation_latency_seconds')),
    endToEndLatency: histogramSummary(valuesOf(metrics, 'cachetail_end_to_end_latency_seconds')),
  };
}
