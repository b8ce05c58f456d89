/** Builds a Tailer and its memcached sink from validated config. No env, no signals, no exit. */
import { join } from 'node:path';
import { extractAnnotations, type RejectReason } from '../annotate/index.js';
import type { TailerConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { TailerMetrics } from '../observability/metrics.js';
import { ReplicationConnection } from '../replication/client.js';
import { assertPreflight, runPreflight } from '../replication/preflight.js';
import { MemcachedSink, memcachedSinkOptions } from '../sinks/memcached/sink.js';
import type { CommittedTransaction } from '../sinks/sink.js';
import { CheckpointStore } from './checkpoint.js';
import { ReplicaCommitGate } from './commit-gate.js';
import { spillFactory } from './spill.js';
import type { KeyExtractor } from './transactions.js';
import { Tailer } from './tailer.js';

/** Statement text → valid keys; rejected keys are reported and logged, never deleted mangled. */
export function annotationExtractor(
  log: Logger,
  onRejected: (reason: RejectReason) => void = () => {},
): KeyExtractor {
  return (sql, lex) => {
    const result = extractAnnotations(sql, lex);
    if (result.rejected.length > 0) {
      for (const r of result.rejected) onRejected(r.reason);
      log.warn({ rejected: result.rejected }, 'annotation keys rejected (not deleted)');
    }
    let writerTimeMs: number | undefined;
    for (const a of result.annotations) {
      if (a.ts !== undefined && (writerTimeMs === undefined || a.ts < writerTimeMs)) writerTimeMs = a.ts;
    }
    return { keys: result.keys, writerTimeMs };
  };
}

/** The preflight of src/replication, refusing to start when annotations would be lost silently. */
function preflightFor(config: TailerConfig, log: Logger): (conn: ReplicationConnection) => Promise<void> {
  return async (conn) => {
    const report = await runPreflight(conn, {
      ourServerId: config.source.serverId,
      server: `${config.source.host}:${config.source.port}`,
    });
    for (const c of report.checks) if (c.status === 'warn') log.warn({ check: c.id, fix: c.fix }, c.message);
    assertPreflight(report);
  };
}

export function createTailer(
  config: TailerConfig,
  log: Logger,
  metrics?: TailerMetrics,
  hooks: { onDelivered?: (transactions: readonly CommittedTransaction[], ackTimeMs: number) => void } = {},
): { tailer: Tailer; sink: MemcachedSink; checkpointPath: string } {
  const sink = new MemcachedSink({
    ...memcachedSinkOptions(config.memcached, {
      log: log.child({ module: 'sink.memcached' }),
      journalDir: join(config.stateDir, 'memcached-journal'),
    }),
    onDeleteErrors: (server, count) => metrics?.deleteErrors.inc(server, count),
  });
  // The sink counts outcomes; after each delivery the new ones go to keys_invalidated_total{result}.
  const counted = { deleted: 0, notFound: 0, tombstoned: 0, journaled: 0 };
  const results = [
    ['deleted', 'deleted'],
    ['notFound', 'not_found'],
    ['tombstoned', 'tombstoned'],
    ['journaled', 'journaled'],
  ] as const;
  const syncSinkMetrics = (): void => {
    for (const [field, label] of results) {
      const delta = sink.stats[field] - counted[field];
      if (delta > 0) metrics?.keysInvalidated.inc(label, delta);
      counted[field] = sink.stats[field];
    }
  };

  const checkpoints = new CheckpointStore(config.stateDir);
  const tailer = new Tailer({
    source: config.source,
    start: config.start,
    sink,
    extract: annotationExtractor(log.child({ module: 'annotate' }), (reason) =>
      metrics?.annotationKeysRejected.inc(reason),
    ),
    preflight: preflightFor(config, log.child({ module: 'preflight' })),
    onDelivered: (_keys, transactions) => {
      syncSinkMetrics();
      hooks.onDelivered?.(transactions, tailer.acknowledgedAt);
    },
    metrics,
    log,
    connect: (source) => ReplicationConnection.open(source),
    commitGate: new ReplicaCommitGate({ open: () => ReplicationConnection.open(config.source), log }),
    checkpoints,
    checkpointIntervalMs: config.checkpoint.intervalMs,
    gapPolicy: config.gapPolicy,
    livenessTimeoutMs: config.source.livenessTimeoutMs,
    maxBatchKeys: config.batch.maxKeys,
    maxPendingTransactions: config.batch.maxPendingTransactions,
    maxPendingKeys: config.batch.maxPendingKeys,
    outbox:
      config.outbox.tables.length > 0
        ? {
            tables: config.outbox.tables,
            onRejected: (reason) => metrics?.annotationKeysRejected.inc(reason),
          }
        : undefined,
    spill: {
      thresholdKeys: config.batch.spillThresholdKeys,
      create: spillFactory(join(config.stateDir, 'spill')),
    },
  });
  return { tailer, sink, checkpointPath: checkpoints.path };
}
