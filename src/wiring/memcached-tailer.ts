/** Builds the memcached Tailer and its sink from validated config. No env, no signals, no exit. */
import { join } from 'node:path';
import type { TailerConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { TailerMetrics } from '../observability/metrics.js';
import { MemcachedSink, memcachedSinkOptions } from '../sinks/memcached/sink.js';
import type { CommittedTransaction } from '../sinks/sink.js';
import { CheckpointStore } from '../tailer/checkpoint.js';
import { annotationExtractor } from '../tailer/extract.js';
import { Tailer } from '../tailer/tailer.js';
import { tailerCoreOptions } from './tailer-options.js';

export interface MemcachedTailerHooks {
  /** After each acknowledged delivery, with the acknowledgement time (the consistency sampler). */
  onDelivered?: (transactions: readonly CommittedTransaction[], ackTimeMs: number) => void;
}

export function createTailer(
  config: TailerConfig,
  log: Logger,
  metrics?: TailerMetrics,
  hooks: MemcachedTailerHooks = {},
): { tailer: Tailer; sink: MemcachedSink; checkpointPath: string } {
  const sink = new MemcachedSink({
    ...memcachedSinkOptions(config.memcached, {
      log: log.child({ module: 'sink.memcached' }),
      journalDir: join(config.stateDir, 'memcached-journal'),
    }),
    onDeleteErrors: (server, count) => metrics?.deleteErrors.inc(server, count),
  });
  const syncSinkMetrics = sinkResultCounter(sink, metrics);
  const checkpoints = new CheckpointStore(config.stateDir);
  const onRejected = (reason: Parameters<TailerMetrics['annotationKeysRejected']['inc']>[0]) =>
    metrics?.annotationKeysRejected.inc(reason);
  const tailer: Tailer = new Tailer({
    ...tailerCoreOptions(config, {
      source: config.source,
      checkpoints,
      spillDir: 'spill',
      log,
      logWarnings: true,
    }),
    sink,
    extract: annotationExtractor(log.child({ module: 'annotate' }), onRejected),
    onDelivered: (_keys, transactions) => {
      syncSinkMetrics();
      hooks.onDelivered?.(transactions, tailer.acknowledgedAt);
    },
    metrics,
    gapPolicy: config.gapPolicy,
    outbox: config.outbox.tables.length > 0 ? { tables: config.outbox.tables, onRejected } : undefined,
  });
  return { tailer, sink, checkpointPath: checkpoints.path };
}

/**
 * The sink counts outcomes; after each delivery the new ones go to keys_invalidated_total{result}.
 * Returns the function that moves them.
 */
function sinkResultCounter(sink: MemcachedSink, metrics: TailerMetrics | undefined): () => void {
  const counted = { deleted: 0, notFound: 0, tombstoned: 0, journaled: 0 };
  const results = [
    ['deleted', 'deleted'],
    ['notFound', 'not_found'],
    ['tombstoned', 'tombstoned'],
    ['journaled', 'journaled'],
  ] as const;
  return () => {
    for (const [field, label] of results) {
      const delta = sink.stats[field] - counted[field];
      if (delta > 0) metrics?.keysInvalidated.inc(label, delta);
      counted[field] = sink.stats[field];
    }
  };
}
