import type { ClusterInfo } from '../../src/devcluster/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { ReplicationConnection } from '../../src/replication/client.js';
import { MemcachedSink } from '../../src/sinks/memcached/sink.js';
import type { Sink } from '../../src/sinks/sink.js';
import { ReplicaCommitGate } from '../../src/tailer/commit-gate.js';
import { annotationExtractor } from '../../src/tailer/extract.js';
import { Tailer, type TailerOptions } from '../../src/tailer/tailer.js';

let nextServerId = 7_000;

/**
 * A real tailer on the cluster's replica, deleting from the replica region's memcached tier through
 * `wrap(sink)`. Each gets its own replica server id (two dumps with one id evict each other).
 */
export async function startTailer<S extends Sink>(
  info: ClusterInfo,
  wrap: (sink: Sink) => S,
  extra: Partial<TailerOptions> = {},
): Promise<{ tailer: Tailer; sink: S; stop: () => Promise<void> }> {
  const log = createLogger(process.env.CACHETAIL_TEST_LOG ?? 'silent');
  const sink = wrap(
    new MemcachedSink({ servers: [info.memcached.replica], timeoutMs: 1_000, retries: 1_000, log }),
  );
  const source = {
    host: info.replica.host,
    port: info.replica.port,
    user: info.tailerUser.user,
    password: info.tailerUser.password,
    serverId: nextServerId++,
    connectTimeoutMs: 5_000,
    heartbeatMs: 1_000,
  };
  const tailer = new Tailer({
    source,
    start: { kind: 'current' },
    sink,
    extract: annotationExtractor(log),
    log,
    connect: (s) => ReplicationConnection.open(s),
    // As in production (src/wiring/memcached-tailer.ts): deliver only what the replica has committed.
    commitGate: new ReplicaCommitGate({
      open: () => ReplicationConnection.open(extra.source ?? source),
      log,
    }),
    maxBatchKeys: 1_000,
    maxPendingTransactions: 1_000,
    ...extra,
  });
  await tailer.start();
  return {
    tailer,
    sink,
    stop: async () => {
      await tailer.stop();
      await sink.close();
    },
  };
}
