/**
 * What the tailer hands to a sink: the keys of one or more committed transactions, in commit order.
 * `deliver` resolves only when every key is acknowledged (deleted, or found absent), so the tailer can
 * move its checkpoint past those transactions; it never resolves having dropped a key.
 */
export interface CommittedTransaction {
  /** GTID of the transaction when the server assigned one (MariaDB `d-s-n`, MySQL `uuid:n`). */
  gtid: string | undefined;
  /** The binlog file and the position just after the commit event (where a restart resumes). */
  file: string;
  nextPosition: number;
  /** server_id in the event header: the server that originally wrote the transaction. */
  serverId: number;
  /** Commit time from the event header, in milliseconds since the epoch (second precision). */
  commitTimeMs: number;
  /** Decoded, valid keys, in order of first appearance, de-duplicated. */
  keys: readonly string[];
  /** The writer's commit-time timestamp from the annotation (`ts=`, ms), when it carried one. */
  writerTimeMs?: number | undefined;
  /**
   * Set for a transaction too large to hold in memory: `keys` is then empty and the keys are read
   * from here. Such a transaction is delivered alone, in batches whose `keys` are chunks of it.
   */
  spilled?: SpilledKeys | undefined;
}

export interface SpilledKeys {
  readonly count: number;
  batches(size: number): AsyncGenerator<string[]>;
  discard(): void;
}

export interface InvalidationBatch {
  transactions: readonly CommittedTransaction[];
  /** The union of the transactions' keys, de-duplicated, in first-seen order. */
  keys: readonly string[];
}

export interface Sink {
  readonly name: string;
  deliver(batch: InvalidationBatch, signal: AbortSignal): Promise<void>;
  /** Drops everything the tier caches (the `flush` gap policy); optional for sinks that cannot. */
  flush?(signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}
