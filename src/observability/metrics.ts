/**
 * The tailer's Prometheus metrics, registered on a registry passed in (never prom-client's global one,
 * so two tailers, the edge router and tests can each own theirs). The tailer gets typed handles whose
 * label values come from closed lists (./labels.ts): the series count is fixed by configuration, not by
 * what the binlog or the annotations contain. Meaning, units and labels: docs/observability.md.
 */
import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';
import type { BinlogEventKind } from '../binlog/index.js';
import {
  GAP_POLICIES,
  INVALIDATION_RESULTS,
  OTHER,
  RECONNECT_REASONS,
  REJECT_REASONS,
  TAILER_STATES,
  serverLabel,
  type GapPolicy,
  type InvalidationResult,
  type ReconnectReason,
  type RejectReason,
  type TailerState,
} from './labels.js';
import { CheckpointClock, ReplicationLag } from './clocks.js';

export { CheckpointClock, ReplicationLag } from './clocks.js';

/** Keys per delivered batch: one key up to the largest batch worth telling apart. */
export const BATCH_KEYS_BUCKETS: readonly number[] = [
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000,
];

/** Seconds, 1 ms to 60 s: sub-millisecond is noise for a network delete, beyond a minute is an outage. */
export const LATENCY_BUCKETS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

export interface TailerMetricsOptions {
  /**
   * Which tailer: 'memcached' (default) exports every family under `cachetail_*`; 'kafka', the second
   * tailer of a process, exports only its own progress (state, backlog, lag, checkpoint age, latency)
   * under `cachetail_kafka_*` — events, keys and reconnects are the memcached tailer's (same binlog).
   */
  tailer?: TailerKind;
  /**
   * The configured memcached servers (host:port): the only values of `server`; anything else is
   * recorded as `other`. Each starts at 0, so a first error shows up in `increase()`.
   */
  servers?: readonly string[];
  /** Wall clock in ms since the epoch, read at scrape time for the age gauges. Tests pass a fake. */
  now?: () => number;
}

export type TailerKind = 'memcached' | 'kafka';

/** Name and help of each progress series, per tailer (docs/observability.md, docs/kafka.md). */
const PROGRESS_SERIES: Record<TailerKind, Record<keyof ProgressSeries, [name: string, help: string]>> = {
  memcached: {
    state: ['cachetail_state', 'Tailer state: 1 for the current one, 0 for the others.'],
    pending: ['cachetail_pending_transactions', 'Committed transactions waiting for the sink.'],
    paused: [
      'cachetail_reading_paused',
      '1 while reading the binlog is paused because the sink lags (backpressure).',
    ],
    lag: [
      'cachetail_replication_lag_seconds',
      'Now minus the timestamp of the last binlog event read; 0 after a heartbeat (caught up).',
    ],
    checkpointAge: [
      'cachetail_checkpoint_age_seconds',
      'Seconds since the checkpoint was last written (or loaded; else since start).',
    ],
    latency: [
      'cachetail_invalidation_latency_seconds',
      'Binlog commit time (1 s precision) to sink acknowledgement, per transaction.',
    ],
  },
  kafka: {
    state: ['cachetail_kafka_tailer_state', 'Kafka tailer state: 1 for the current one, 0 for the others.'],
    pending: [
      'cachetail_kafka_pending_transactions',
      'Committed transactions waiting to be published (grows while Kafka is unreachable).',
    ],
    paused: [
      'cachetail_kafka_reading_paused',
      '1 while the Kafka tailer has paused reading the binlog because Kafka lags (backpressure).',
    ],
    lag: [
      'cachetail_kafka_replication_lag_seconds',
      'Now minus the timestamp of the last binlog event the Kafka tailer read; 0 when caught up.',
    ],
    checkpointAge: [
      'cachetail_kafka_checkpoint_age_seconds',
      'Seconds since the Kafka tailer last wrote its checkpoint (or loaded it; else since start).',
    ],
    latency: [
      'cachetail_kafka_invalidation_latency_seconds',
      'Binlog commit time (1 s precision) to Kafka acknowledgement, per transaction.',
    ],
  },
};

/** What every tailer exports about its own progress. */
interface ProgressSeries {
  state: TailerMetrics['state'];
  pending: GaugeHandle;
  paused: TailerMetrics['readingPaused'];
  lag: ReplicationLag;
  checkpointAge: CheckpointClock;
  latency: HistogramHandle;
}

export interface CounterHandle {
  inc(by?: number): void;
}

/** A counter with one label whose values are the type parameter (a closed list). */
export interface LabeledCounterHandle<L extends string> {
  inc(label: L, by?: number): void;
}

export interface GaugeHandle {
  set(value: number): void;
}

export interface HistogramHandle {
  observe(value: number): void;
}

/** What the latency histograms need from one acknowledged transaction. */
export interface AcknowledgedTransaction {
  /** Commit time from the binlog event header (ms since the epoch; the header has 1-second precision). */
  commitTimeMs: number;
  /** The writer's `ts=` annotation field (ms since the epoch); the earliest one when there are several. */
  writerTimeMs?: number | undefined;
}

export interface TailerMetrics {
  readonly registry: Registry;
  /** cachetail_binlog_events_total{type}: one per decoded event, by event kind (heartbeats included). */
  readonly binlogEvents: LabeledCounterHandle<BinlogEventKind>;
  /** cachetail_transactions_total: committed transactions read (and statements outside a transaction). */
  readonly transactions: CounterHandle;
  /** cachetail_transactions_with_keys_total: those of them that named at least one key. */
  readonly transactionsWithKeys: CounterHandle;
  /** cachetail_keys_invalidated_total{result}: keys acknowledged by the sink, by outcome. */
  readonly keysInvalidated: LabeledCounterHandle<InvalidationResult>;
  /** cachetail_delete_errors_total{server}: failed delete attempts (retried) per memcached server. */
  readonly deleteErrors: LabeledCounterHandle<string>;
  /** cachetail_batch_keys: keys per batch handed to the sink. */
  readonly batchKeys: HistogramHandle;
  /** cachetail_replication_lag_seconds, computed at scrape time from what the tailer reports. */
  readonly replicationLag: ReplicationLag;
  /** cachetail_invalidation_latency_seconds: binlog commit time → sink acknowledgement. */
  readonly invalidationLatency: HistogramHandle;
  /** cachetail_end_to_end_latency_seconds: writer's `ts=` → sink acknowledgement. */
  readonly endToEndLatency: HistogramHandle;
  /** cachetail_checkpoint_age_seconds (scrape time) and cachetail_checkpoint_writes_total. */
  readonly checkpoint: CheckpointClock;
  /** cachetail_annotation_keys_rejected_total{reason}: keys not deleted because they were malformed. */
  readonly annotationKeysRejected: LabeledCounterHandle<RejectReason>;
  /** cachetail_reconnects_total{reason}. */
  readonly reconnects: LabeledCounterHandle<ReconnectReason>;
  /** cachetail_gap_events_total{policy}: gaps met, by the policy applied. */
  readonly gapEvents: LabeledCounterHandle<GapPolicy>;
  /** cachetail_state{state}: 1 for the current state, 0 for the others. */
  readonly state: { set(state: TailerState): void; get(): TailerState };
  /** cachetail_pending_transactions: committed transactions waiting for the sink. */
  readonly pendingTransactions: GaugeHandle;
  /** cachetail_reading_paused: 1 while reading is paused by backpressure. */
  readonly readingPaused: { set(paused: boolean): void };
  /**
   * Records one sink acknowledgement: an invalidation-latency sample per transaction and an end-to-end
   * sample per transaction that carried a writer timestamp. `ackTimeMs` defaults to the clock.
   */
  acknowledged(transactions: Iterable<AcknowledgedTransaction>, ackTimeMs?: number): void;
}

/**
 * Registers a tailer's metrics on `registry` and returns handles to them (options.tailer says which
 * tailer). Calling it twice for the same tailer kind on one registry throws (prom-client refuses
 * duplicate names): one tailer, one set.
 */
export function createTailerMetrics(registry: Registry, options: TailerMetricsOptions = {}): TailerMetrics {
  const now = options.now ?? Date.now;
  if (options.tailer === 'kafka') return progressOnly(registry, now);
  return fullTailerMetrics(registry, now, options.servers ?? []);
}

/** The Kafka tailer: its own progress series; counting events and keys again would double them. */
function progressOnly(registry: Registry, now: () => number): TailerMetrics {
  const p = progressSeries(registry, PROGRESS_SERIES.kafka, now, () => undefined);
  const noop = { inc: () => undefined };
  return {
    registry,
    binlogEvents: noop,
    transactions: noop,
    transactionsWithKeys: noop,
    keysInvalidated: noop,
    deleteErrors: noop,
    batchKeys: { observe: () => undefined },
    replicationLag: p.lag,
    invalidationLatency: p.latency,
    endToEndLatency: { observe: () => undefined },
    checkpoint: p.checkpointAge,
    annotationKeysRejected: noop,
    reconnects: noop,
    gapEvents: noop,
    state: p.state,
    pendingTransactions: p.pending,
    readingPaused: p.paused,
    acknowledged(txns, ackTimeMs = now()) {
      for (const txn of txns) p.latency.observe(seconds(txn.commitTimeMs, ackTimeMs));
    },
  };
}

function fullTailerMetrics(
  registry: Registry,
  now: () => number,
  configuredServers: readonly string[],
): TailerMetrics {
  const registers = [registry];
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Counter<L>({ name, help, labelNames, registers });

  const events = counter('cachetail_binlog_events_total', 'Binlog events read, by event kind.', ['type']);
  const transactions = counter('cachetail_transactions_total', 'Committed transactions read.');
  const withKeys = counter(
    'cachetail_transactions_with_keys_total',
    'Committed transactions read that named at least one cache key.',
  );
  const keys = counter(
    'cachetail_keys_invalidated_total',
    'Cache keys acknowledged by the sink, by result.',
    ['result'],
  );
  const deleteErrors = counter(
    'cachetail_delete_errors_total',
    'Failed delete attempts (each is retried), by memcached server.',
    ['server'],
  );
  const batchKeys = new Histogram({
    name: 'cachetail_batch_keys',
    help: 'Keys per batch handed to the sink.',
    buckets: [...BATCH_KEYS_BUCKETS],
    registers,
  });
  const endToEnd = new Histogram({
    name: 'cachetail_end_to_end_latency_seconds',
    help: "Writer's annotation timestamp (ts=) to sink acknowledgement, per transaction.",
    buckets: [...LATENCY_BUCKETS],
    registers,
  });
  const checkpointWrites = counter('cachetail_checkpoint_writes_total', 'Checkpoints written.');
  const rejected = counter(
    'cachetail_annotation_keys_rejected_total',
    'Annotated keys rejected as malformed (not deleted), by reason.',
    ['reason'],
  );
  const reconnects = counter('cachetail_reconnects_total', 'Replication reconnects, by reason.', ['reason']);
  const gaps = counter('cachetail_gap_events_total', 'Binlog gaps met, by the policy applied.', ['policy']);
  const p = progressSeries(registry, PROGRESS_SERIES.memcached, now, () => checkpointWrites.inc());

  // Series at 0 from the start, so rate()/increase() see the first increment and dashboards the labels.
  const servers = new Set(configuredServers.map(serverLabel));
  for (const server of servers) deleteErrors.inc({ server }, 0);
  for (const result of INVALIDATION_RESULTS) keys.inc({ result }, 0);
  for (const reason of REJECT_REASONS) rejected.inc({ reason }, 0);
  for (const reason of RECONNECT_REASONS) reconnects.inc({ reason }, 0);
  for (const policy of GAP_POLICIES) gaps.inc({ policy }, 0);
  transactions.inc(0);
  withKeys.inc(0);
  checkpointWrites.inc(0);

  return {
    registry,
    binlogEvents: { inc: (type, by = 1) => events.inc({ type }, by) },
    transactions: { inc: (by = 1) => transactions.inc(by) },
    transactionsWithKeys: { inc: (by = 1) => withKeys.inc(by) },
    keysInvalidated: { inc: (result, by = 1) => keys.inc({ result }, by) },
    deleteErrors: {
      inc: (server, by = 1) => {
        const label = serverLabel(server);
        deleteErrors.inc({ server: servers.has(label) ? label : OTHER }, by);
      },
    },
    batchKeys: { observe: (n) => batchKeys.observe(n) },
    replicationLag: p.lag,
    invalidationLatency: p.latency,
    endToEndLatency: { observe: (s) => endToEnd.observe(Math.max(0, s)) },
    checkpoint: p.checkpointAge,
    annotationKeysRejected: { inc: (reason, by = 1) => rejected.inc({ reason }, by) },
    reconnects: { inc: (reason, by = 1) => reconnects.inc({ reason }, by) },
    gapEvents: { inc: (policy, by = 1) => gaps.inc({ policy }, by) },
    state: p.state,
    pendingTransactions: p.pending,
    readingPaused: p.paused,
    acknowledged(txns, ackTimeMs = now()) {
      for (const txn of txns) {
        p.latency.observe(seconds(txn.commitTimeMs, ackTimeMs));
        if (txn.writerTimeMs !== undefined) endToEnd.observe(seconds(txn.writerTimeMs, ackTimeMs));
      }
    },
  };
}

/** State, backlog, pause, lag, checkpoint age and commit→ack latency of one tailer, under `names`. */
function progressSeries(
  registry: Registry,
  names: Record<keyof ProgressSeries, [string, string]>,
  now: () => number,
  onCheckpointWrite: () => void,
): ProgressSeries {
  const registers = [registry];
  const gauge = ([name, help]: [string, string], labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers });
  const stateGauge = gauge(names.state, ['state']);
  const pending = gauge(names.pending);
  const paused = gauge(names.paused);
  const latency = new Histogram({
    name: names.latency[0],
    help: names.latency[1],
    buckets: [...LATENCY_BUCKETS],
    registers,
  });
  const lag = new ReplicationLag(now);
  new Gauge({
    name: names.lag[0],
    help: names.lag[1],
    registers,
    collect() {
      this.set(lag.gaugeSeconds());
    },
  });
  const checkpoint = new CheckpointClock(now, onCheckpointWrite);
  new Gauge({
    name: names.checkpointAge[0],
    help: names.checkpointAge[1],
    registers,
    collect() {
      this.set(checkpoint.ageSeconds());
    },
  });
  pending.set(0);
  paused.set(0);

  let current: TailerState = 'idle';
  const setState = (state: TailerState): void => {
    current = state;
    for (const s of TAILER_STATES) stateGauge.set({ state: s }, s === state ? 1 : 0);
  };
  setState('idle');
  return {
    state: { set: setState, get: () => current },
    pending: { set: (n) => pending.set(n) },
    paused: { set: (on) => paused.set(on ? 1 : 0) },
    lag,
    checkpointAge: checkpoint,
    // Clock skew between the primary (which stamped the event) and this host can make a difference
    // negative; 0 is the honest floor.
    latency: { observe: (s) => latency.observe(Math.max(0, s)) },
  };
}

/** Seconds from `fromMs` to `toMs`, never negative (clock skew between the primary and this host). */
function seconds(fromMs: number, toMs: number): number {
  return Math.max(0, (toMs - fromMs) / 1000);
}

/**
 * prom-client's process and Node.js metrics (CPU, memory, event-loop lag, GC) on `registry`. Separate
 * from the tailer's set because a process with several metric sets (tailer + edge) must register these
 * once. No prefix by default: the standard names are what ready-made dashboards query.
 */
export function collectProcessMetrics(registry: Registry, prefix = ''): void {
  collectDefaultMetrics({ register: registry, prefix });
}
