/** Builds a Tailer and its memcached sink from validated config. No env, no signals, no exit. */
import { extractAnnotations, type RejectReason } from '../annotate/index.js';
import type { TailerConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import { ReplicationConnection } from '../replication/client.js';
import { MemcachedSink } from '../sinks/memcached/sink.js';
import { CheckpointStore } from './checkpoint.js';
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

export function createTailer(config: TailerConfig, log: Logger): { tailer: Tailer; sink: MemcachedSink } {
  const sink = new MemcachedSink({
    servers: config.memcached.servers,
    timeoutMs: config.memcached.timeoutMs,
    retries: config.memcached.retries,
    log: log.child({ module: 'sink.memcached' }),
  });
  const tailer = new Tailer({
    source: config.source,
    start: config.start,
    sink,
    extract: annotationExtractor(log.child({ module: 'annotate' })),
    log,
    connect: (source) => ReplicationConnection.open(source),
    checkpoints: new CheckpointStore(config.stateDir),
    checkpointIntervalMs: config.checkpoint.intervalMs,
    gapPolicy: config.gapPolicy,
    livenessTimeoutMs: config.source.livenessTimeoutMs,
    maxBatchKeys: config.batch.maxKeys,
    maxPendingTransactions: config.batch.maxPendingTransactions,
  });
  return { tailer, sink };
}
