/** Counters of the memcached sink, a plain object the metrics module reads (and tests assert on). */
export interface MemcachedSinkStats {
  /** Deletes acknowledged by a server that removed a value. */
  deleted: number;
  /** Deletes acknowledged by a server that had no such key. */
  notFound: number;
  /** Hold-off tombstones written (instead of deletes). */
  tombstoned: number;
  /** Tombstones a server refused to store, deleted instead. */
  tombstoneFallbacks: number;
  /** Keys never sent because memcached cannot hold them (empty, over 250 bytes): nothing to invalidate. */
  rejected: number;
  /** Key sends that failed (connection lost, timeout, error status), counted per key and attempt. */
  errors: number;
  /** Attempts that failed because a server stopped answering (receive timeout). */
  timeouts: number;
  /** Keys sent again after a failed attempt. */
  retries: number;
  /** Keys written to a down server's journal. */
  journaled: number;
  /** Keys for a down server not journaled because a flush before its reuse is already recorded. */
  coveredByFlush: number;
  /** Journaled keys sent and acknowledged once their server answered again. */
  replayed: number;
  /** flush_all sent to a server before reusing it. */
  flushes: number;
  /** Failures to write the journal (the checkpoint is held meanwhile). */
  journalErrors: number;
  /** Times a server was declared down, and brought back into service. */
  serversDown: number;
  serversRecovered: number;
}

export function emptyStats(): MemcachedSinkStats {
  return {
    deleted: 0,
    notFound: 0,
    tombstoned: 0,
    tombstoneFallbacks: 0,
    rejected: 0,
    errors: 0,
    timeouts: 0,
    retries: 0,
    journaled: 0,
    coveredByFlush: 0,
    replayed: 0,
    flushes: 0,
    journalErrors: 0,
    serversDown: 0,
    serversRecovered: 0,
  };
}
