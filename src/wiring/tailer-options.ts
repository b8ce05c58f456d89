/**
 * What every Tailer built from config shares, memcached or Kafka: its replication connection and preflight,
 * the commit gate, checkpoint cadence, liveness, batching and spill. Each builder adds its sink, its
 * checkpoint file, its spill dir and its gap policy.
 */
import { join } from 'node:path';
import type { TailerConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import { ReplicationConnection, type ReplicationSource } from '../replication/client.js';
import { assertPreflight, runPreflight } from '../replication/preflight.js';
import type { CheckpointStore } from '../tailer/checkpoint.js';
import { ReplicaCommitGate } from '../tailer/commit-gate.js';
import { spillFactory } from '../tailer/spill.js';
import type { TailerOptions } from '../tailer/tailer.js';

export type TailerCoreConfig = Pick<TailerConfig, 'start' | 'checkpoint' | 'batch' | 'stateDir'>;

export interface TailerCoreParts {
  /** The replica this tailer reads, with its own server id. */
  source: TailerConfig['source'];
  checkpoints: CheckpointStore;
  /** Under stateDir; each tailer clears its own at start. */
  spillDir: string;
  log: Logger;
  /** Log the preflight's warnings (one tailer per process does; the checks are the same). */
  logWarnings: boolean;
}

/** The Tailer options that come from config and the replica, without sink, extractor and metrics. */
export function tailerCoreOptions(
  config: TailerCoreConfig,
  parts: TailerCoreParts,
): Omit<TailerOptions, 'sink' | 'extract' | 'metrics' | 'onDelivered' | 'outbox'> {
  const { source, log } = parts;
  return {
    source,
    start: config.start,
    preflight: preflightFor(source, parts.logWarnings ? log.child({ module: 'preflight' }) : null),
    log,
    connect: (s) => ReplicationConnection.open(s),
    // Sinks apply these keys to tiers a lagging replica could re-fill: wait until the replica committed.
    commitGate: new ReplicaCommitGate({ open: () => ReplicationConnection.open(source), log }),
    checkpoints: parts.checkpoints,
    checkpointIntervalMs: config.checkpoint.intervalMs,
    livenessTimeoutMs: source.livenessTimeoutMs,
    maxBatchKeys: config.batch.maxKeys,
    maxPendingTransactions: config.batch.maxPendingTransactions,
    maxPendingKeys: config.batch.maxPendingKeys,
    spill: {
      thresholdKeys: config.batch.spillThresholdKeys,
      create: spillFactory(join(config.stateDir, parts.spillDir)),
    },
  };
}

/** The preflight of src/replication, refusing to start when annotations would be lost silently. */
function preflightFor(
  source: ReplicationSource,
  warnings: Logger | null,
): (conn: ReplicationConnection) => Promise<void> {
  return async (conn) => {
    const report = await runPreflight(conn, {
      ourServerId: source.serverId,
      server: `${source.host}:${source.port}`,
    });
    if (warnings) {
      for (const c of report.checks) {
        if (c.status === 'warn') warnings.warn({ check: c.id, fix: c.fix }, c.message);
      }
    }
    assertPreflight(report);
  };
}
