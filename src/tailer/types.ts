// The Tailer's options, positions, counters and states (./tailer.ts).
import type { GtidState } from '../binlog/index.js';
import type { Logger } from '../observability/logger.js';
import type { TailerMetrics } from '../observability/metrics.js';
import type { ReplicationConnection, ReplicationSource, StartPosition } from '../replication/client.js';
import type { CommittedTransaction, Sink } from '../sinks/sink.js';
import type { CheckpointStore } from './checkpoint.js';
import type { CommitGate } from './commit-gate.js';
import type { AssemblerOptions, KeyExtractor } from './transactions.js';

export interface Position {
  file: string;
  nextPosition: number;
  /**
   * GTID state including this transaction; null when not known (file/position start, no GTIDs). A MySQL
   * set is only ever the complete one — every transaction before this position — since resuming with it
   * asks the server for every transaction not in it; until a complete base is known it stays null.
   */
  gtid: GtidState | null;
}

export type GapPolicy = 'fail-closed' | 'flush';

export interface TailerOptions {
  source: ReplicationSource;
  /** Used only when there is no checkpoint. 'current' = the replica's binlog end at start-up. */
  start: StartPosition | { kind: 'current' };
  sink: Sink;
  extract: KeyExtractor;
  log: Logger;
  connect: (source: ReplicationSource) => Promise<ReplicationConnection>;
  /** Checks run after every connect, before the dump; throws a non-retryable error to refuse. */
  preflight?: (conn: ReplicationConnection) => Promise<void>;
  checkpoints?: CheckpointStore;
  checkpointIntervalMs?: number;
  gapPolicy?: GapPolicy;
  /** No event (heartbeats included) for this long → the link is dead; reconnect. 0 = off. */
  livenessTimeoutMs?: number;
  /**
   * How long the stream may send nothing but heartbeats while the replica's binlog is ahead of what
   * was read before it is ended and resumed (a dump thread left on a file RESET MASTER removed);
   * checked on a connection of its own, only when no event came for that long. 0: off. Default 5000.
   */
  stallCheckMs?: number;
  maxBatchKeys: number;
  maxPendingTransactions: number;
  /** Reading pauses while this many keys wait in memory. */
  maxPendingKeys?: number;
  /** Transactions with more keys than `thresholdKeys` spill them to files made by `create`. */
  spill?: AssemblerOptions['spill'];
  /** Outbox mode: tables whose inserted rows carry keys (src/tailer/outbox.ts). */
  outbox?: AssemblerOptions['outbox'];
  reconnect?: { initialMs: number; maxMs: number };
  metrics?: TailerMetrics;
  /** Called after each acknowledged delivery (metrics of the sink, dashboards, samplers). */
  onDelivered?: (keys: number, transactions: readonly CommittedTransaction[]) => void;
  /**
   * Waits before each delivery until the replica has committed the batch (./commit-gate.ts): the
   * binlog holds a transaction before the replica's rows show it. Without one, keys go to the sink as
   * soon as the commit event was read. Closed by stop().
   */
  commitGate?: CommitGate;
}

export interface TailerStats {
  events: number;
  transactions: number;
  keysDelivered: number;
  batches: number;
  reconnects: number;
  gaps: number;
  checkpointWrites: number;
}

export type TailerState = 'idle' | 'connecting' | 'streaming' | 'failed' | 'stopped';
