/** The tailer's metric set: names, label values, bounded labels, scrape-time gauges, registry isolation. */
import { Registry, register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  collectProcessMetrics,
  createTailerMetrics,
  type TailerMetrics,
} from '../../../src/observability/metrics.js';

const NAMES = [
  'cachetail_binlog_events_total',
  'cachetail_transactions_total',
  'cachetail_transactions_with_keys_total',
  'cachetail_keys_invalidated_total',
  'cachetail_delete_errors_total',
  'cachetail_batch_keys',
  'cachetail_replication_lag_seconds',
  'cachetail_invalidation_latency_seconds',
  'cachetail_end_to_end_latency_seconds',
  'cachetail_checkpoint_age_seconds',
  'cachetail_checkpoint_writes_total',
  'cachetail_annotation_keys_rejected_total',
  'cachetail_reconnects_total',
  'cachetail_gap_events_total',
  'cachetail_state',
  'cachetail_pending_transactions',
  'cachetail_reading_paused',
];

class FakeClock {
  constructor(public ms: number) {}
  readonly now = (): number => this.ms;
}

function setup(servers = ['10.0.0.1:11211', '10.0.0.2:11211']): {
  registry: Registry;
  metrics: TailerMetrics;
  clock: FakeClock;
} {
  const registry = new Registry();
  const clock = new FakeClock(1_700_000_000_000);
  return { registry, clock, metrics: createTailerMetrics(registry, { servers, now: clock.now }) };
}

/** Every sample of one metric as `name{labels} value` lines, from the text exposition. */
async function samples(registry: Registry, name: string): Promise<string[]> {
  const text = await registry.getSingleMetricAsString(name);
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

/** A histogram's `_sum` (compared approximately: it is a float sum). */
async function sum(registry: Registry, name: string): Promise<number> {
  const line = (await samples(registry, name)).find((l) => l.startsWith(`${name}_sum `));
  return Number(line?.split(' ')[1]);
}

describe('createTailerMetrics', () => {
  it('registers exactly the documented names, none on the global registry', async () => {
    const before = (await globalRegistry.getMetricsAsJSON()).length;
    const { registry } = setup();
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name).sort();
    expect(names).toEqual([...NAMES].sort());
    expect((await globalRegistry.getMetricsAsJSON()).length).toBe(before);
  });

  it('starts every bounded series at 0 and the state at idle', async () => {
    const { registry } = setup();
    expect(await samples(registry, 'cachetail_keys_invalidated_total')).toEqual([
      'cachetail_keys_invalidated_total{result="deleted"} 0',
      'cachetail_keys_invalidated_total{result="not_found"} 0',
      'cachetail_keys_invalidated_total{result="tombstoned"} 0',
      'cachetail_keys_invalidated_total{result="journaled"} 0',
    ]);
    expect(await samples(registry, 'cachetail_delete_errors_total')).toEqual([
      'cachetail_delete_errors_total{server="10.0.0.1:11211"} 0',
      'cachetail_delete_errors_total{server="10.0.0.2:11211"} 0',
    ]);
    expect(await samples(registry, 'cachetail_gap_events_total')).toEqual([
      'cachetail_gap_events_total{policy="fail-closed"} 0',
      'cachetail_gap_events_total{policy="flush"} 0',
    ]);
    expect(await samples(registry, 'cachetail_state')).toEqual([
      'cachetail_state{state="idle"} 1',
      'cachetail_state{state="connecting"} 0',
      'cachetail_state{state="streaming"} 0',
      'cachetail_state{state="paused"} 0',
      'cachetail_state{state="failed"} 0',
      'cachetail_state{state="stopped"} 0',
    ]);
    expect(await samples(registry, 'cachetail_binlog_events_total')).toEqual([]);
    expect(await samples(registry, 'cachetail_replication_lag_seconds')).toEqual([
      'cachetail_replication_lag_seconds 0',
    ]);
    expect((await samples(registry, 'cachetail_annotation_keys_rejected_total')).length).toBe(15);
    expect((await samples(registry, 'cachetail_reconnects_total')).length).toBe(6);
  });

  it('records increments under the expected label values', async () => {
    const { registry, metrics } = setup();
    metrics.binlogEvents.inc('xid');
    metrics.binlogEvents.inc('xid');
    metrics.binlogEvents.inc('heartbeat');
    metrics.transactions.inc(3);
    metrics.transactionsWithKeys.inc();
    metrics.keysInvalidated.inc('deleted', 5);
    metrics.keysInvalidated.inc('not_found');
    metrics.deleteErrors.inc('10.0.0.2:11211');
    metrics.annotationKeysRejected.inc('key-too-long', 2);
    metrics.reconnects.inc('heartbeat-timeout');
    metrics.gapEvents.inc('flush');
    metrics.state.set('streaming');
    metrics.pendingTransactions.set(7);
    metrics.readingPaused.set(true);

    expect(await samples(registry, 'cachetail_binlog_events_total')).toEqual([
      'cachetail_binlog_events_total{type="xid"} 2',
      'cachetail_binlog_events_total{type="heartbeat"} 1',
    ]);
    expect(await samples(registry, 'cachetail_transactions_total')).toEqual([
      'cachetail_transactions_total 3',
    ]);
    expect(await samples(registry, 'cachetail_transactions_with_keys_total')).toEqual([
      'cachetail_transactions_with_keys_total 1',
    ]);
    expect(await samples(registry, 'cachetail_keys_invalidated_total')).toEqual([
      'cachetail_keys_invalidated_total{result="deleted"} 5',
      'cachetail_keys_invalidated_total{result="not_found"} 1',
      'cachetail_keys_invalidated_total{result="tombstoned"} 0',
      'cachetail_keys_invalidated_total{result="journaled"} 0',
    ]);
    expect(await samples(registry, 'cachetail_delete_errors_total')).toEqual([
      'cachetail_delete_errors_total{server="10.0.0.1:11211"} 0',
      'cachetail_delete_errors_total{server="10.0.0.2:11211"} 1',
    ]);
    const text = await registry.metrics();
    expect(text).toContain('cachetail_annotation_keys_rejected_total{reason="key-too-long"} 2\n');
    expect(text).toContain('cachetail_reconnects_total{reason="heartbeat-timeout"} 1\n');
    expect(text).toContain('cachetail_gap_events_total{policy="flush"} 1\n');
    expect(text).toContain('cachetail_state{state="streaming"} 1\n');
    expect(text).toContain('cachetail_state{state="idle"} 0\n');
    expect(text).toContain('cachetail_pending_transactions 7\n');
    expect(text).toContain('cachetail_reading_paused 1\n');
    expect(metrics.state.get()).toBe('streaming');
  });

  it('keeps the server label to the configured list, without credentials', async () => {
    const { registry, metrics } = setup(['user:secret@10.0.0.1:11211']);
    metrics.deleteErrors.inc('user:secret@10.0.0.1:11211');
    metrics.deleteErrors.inc('10.0.0.1:11211');
    metrics.deleteErrors.inc('10.9.9.9:11211');
    metrics.deleteErrors.inc('another.host:1');
    expect(await samples(registry, 'cachetail_delete_errors_total')).toEqual([
      'cachetail_delete_errors_total{server="10.0.0.1:11211"} 2',
      'cachetail_delete_errors_total{server="other"} 2',
    ]);
    expect(await registry.metrics()).not.toContain('secret');
  });

  it('observes batch sizes and latencies in the documented buckets', async () => {
    const { registry, metrics, clock } = setup();
    metrics.batchKeys.observe(3);
    metrics.batchKeys.observe(20_000);
    const batch = await samples(registry, 'cachetail_batch_keys');
    expect(batch).toContain('cachetail_batch_keys_bucket{le="1"} 0');
    expect(batch).toContain('cachetail_batch_keys_bucket{le="5"} 1');
    expect(batch).toContain('cachetail_batch_keys_bucket{le="10000"} 1');
    expect(batch).toContain('cachetail_batch_keys_bucket{le="+Inf"} 2');
    expect(batch).toContain('cachetail_batch_keys_sum 20003');

    // Commit at second 1_700_000_000 (the header's precision), ack 0.3 s later; the writer stamped
    // 12 ms before the ack; a second transaction without ts=; a third from a primary whose clock runs ahead.
    clock.ms = 1_700_000_000_300;
    metrics.acknowledged([
      { commitTimeMs: 1_700_000_000_000, writerTimeMs: 1_700_000_000_288 },
      { commitTimeMs: 1_699_999_998_000 },
      { commitTimeMs: 1_700_000_005_000, writerTimeMs: 1_700_000_005_000 },
    ]);
    const inv = await samples(registry, 'cachetail_invalidation_latency_seconds');
    expect(inv).toContain('cachetail_invalidation_latency_seconds_bucket{le="0.001"} 1');
    expect(inv).toContain('cachetail_invalidation_latency_seconds_bucket{le="0.5"} 2');
    expect(inv).toContain('cachetail_invalidation_latency_seconds_bucket{le="2.5"} 3');
    expect(inv).toContain('cachetail_invalidation_latency_seconds_bucket{le="60"} 3');
    expect(inv).toContain('cachetail_invalidation_latency_seconds_count 3');
    expect(await sum(registry, 'cachetail_invalidation_latency_seconds')).toBeCloseTo(2.6, 9);
    const e2e = await samples(registry, 'cachetail_end_to_end_latency_seconds');
    expect(e2e).toContain('cachetail_end_to_end_latency_seconds_bucket{le="0.001"} 1');
    expect(e2e).toContain('cachetail_end_to_end_latency_seconds_bucket{le="0.025"} 2');
    expect(e2e).toContain('cachetail_end_to_end_latency_seconds_count 2');
    expect(await sum(registry, 'cachetail_end_to_end_latency_seconds')).toBeCloseTo(0.012, 9);
  });
});

describe('scrape-time gauges', () => {
  it('replication lag: from the last event, 0 after a heartbeat, growing after a disconnect', async () => {
    const { registry, metrics, clock } = setup();
    const lag = async () => (await samples(registry, 'cachetail_replication_lag_seconds'))[0];
    expect(metrics.replicationLag.seconds()).toBeNull();
    clock.ms += 7_000; // nothing read yet: the gauge counts from start, /status says unknown
    expect(await lag()).toBe('cachetail_replication_lag_seconds 7');
    metrics.replicationLag.eventRead(0); // artificial ROTATE: ignored
    expect(metrics.replicationLag.seconds()).toBeNull();
    metrics.replicationLag.eventRead(clock.ms - 3_000);
    expect(await lag()).toBe('cachetail_replication_lag_seconds 3');
    clock.ms += 2_000; // nothing read since: further behind
    expect(await lag()).toBe('cachetail_replication_lag_seconds 5');
    metrics.replicationLag.heartbeat();
    clock.ms += 1_500;
    expect(await lag()).toBe('cachetail_replication_lag_seconds 0');
    metrics.replicationLag.disconnected(); // last known current at the heartbeat, 1.5 s ago
    clock.ms += 4_000;
    expect(await lag()).toBe('cachetail_replication_lag_seconds 5.5');
    metrics.replicationLag.eventRead(clock.ms + 1_000); // primary clock ahead: floor at 0
    expect(metrics.replicationLag.seconds()).toBe(0);
  });

  it('checkpoint age: since start, since the loaded file, since the last write; writes counted', async () => {
    const { registry, metrics, clock } = setup();
    const start = clock.ms;
    const age = async () => (await samples(registry, 'cachetail_checkpoint_age_seconds'))[0];
    clock.ms += 4_000;
    expect(await age()).toBe('cachetail_checkpoint_age_seconds 4');
    expect(metrics.checkpoint.writtenAt()).toBeNull();
    metrics.checkpoint.loaded(start - 60_000);
    expect(await age()).toBe('cachetail_checkpoint_age_seconds 64');
    metrics.checkpoint.written();
    metrics.checkpoint.written(clock.ms + 500);
    clock.ms += 2_000;
    expect(await age()).toBe('cachetail_checkpoint_age_seconds 1.5');
    expect(metrics.checkpoint.writtenAt()).toBe(start + 4_500);
    expect(await samples(registry, 'cachetail_checkpoint_writes_total')).toEqual([
      'cachetail_checkpoint_writes_total 2',
    ]);
  });
});

describe('registry isolation', () => {
  it('two sets on two registries do not collide or share values', async () => {
    const a = setup();
    const b = setup();
    a.metrics.transactions.inc(5);
    b.metrics.transactions.inc(1);
    a.metrics.state.set('failed');
    expect(await samples(a.registry, 'cachetail_transactions_total')).toEqual([
      'cachetail_transactions_total 5',
    ]);
    expect(await samples(b.registry, 'cachetail_transactions_total')).toEqual([
      'cachetail_transactions_total 1',
    ]);
    expect(await b.registry.metrics()).toContain('cachetail_state{state="idle"} 1\n');
  });

  it('a second set on the same registry is refused', () => {
    const { registry } = setup();
    expect(() => createTailerMetrics(registry)).toThrow(/already been registered/);
  });

  it('process metrics go to the registry passed in, with the prefix asked for', async () => {
    const registry = new Registry();
    collectProcessMetrics(registry, 'cachetail_');
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name);
    expect(names).toContain('cachetail_process_cpu_user_seconds_total');
    expect(names.every((n) => n.startsWith('cachetail_'))).toBe(true);
  });
});
