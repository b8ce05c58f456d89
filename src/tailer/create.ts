/** Builds a Tailer and its memcached sink from validated config. No env, no signals, no exit. */
import { extractAnnotations } from '../annotate/index.js';
import type { TailerConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import { ReplicationConnection } from '../replication/client.js';
import { MemcachedSink } from '../sinks/memcached/sink.js';
import { CheckpointStore } from './checkpoint.js';
import type { KeyExtractor } from './transactions.js';
import { Tailer } from './tailer.js';

export interface AnnotationCounters {
  rejectedKeys: number;
}

/** Statement text → valid keys; rejected keys are counted and logged, never deleted mangled. */
export function annotationExtractor(log: Logger, counters: AnnotationCounters): KeyExtractor {
  return (sql, lex) => {
    const result = extractAnnotations(sql, lex);
    if (result.rejected.length > 0) {
      counters.rejectedKeys += result.rejected.length;
      log.warn({ rejected: result.rejected }, 'annotation keys rejected (not deleted)');
    }
    return result.keys;
  };
}

export function createTailer(config: TailerConfig, log: Logger): { tailer: Tailer; sink: MemcachedSink } {
  const sink = new MemcachedSink({
    servers: config.memcached.servers,
    timeoutMs: config.memcached.timeoutMs,
    retries: config.memcached.retries,
    log: log.child({ module: 'sink.memcached' }),
  });
  const counters: AnnotationCounters = { rejectedKeys: 0 };
  const tailer = new Tailer({
    source: config.source,
    start: config.start,
    sink,
    extract: annotationExtractor(log.child({ module: 'annotate' }), counters),
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
