/**
 * The two age gauges are computed when they are read (scrape or /status), not when something happens:
 * a tailer that stops hearing from its replica must look more and more behind, and a gauge set at the
 * last event would freeze at its last value instead.
 */

/**
 * Replication lag: how far behind the local binlog the tailer's reading is. The reference is the
 * header timestamp of the last event read; a heartbeat means the server had nothing more to send, so
 * the tailer is caught up (0) until the link drops, after which the lag grows from that moment.
 *
 * Timestamps are the ones the primary wrote (a replica keeps them), so the value includes the replica's
 * own delay only for events it has already logged, and any clock difference between primary and here.
 */
export class ReplicationLag {
  private referenceMs: number | null = null;
  private caughtUp = false;
  private readonly startMs: number;

  constructor(private readonly now: () => number) {
    this.startMs = now();
  }

  /**
   * An event was read whose header says it was written at `timestampMs`. Artificial events (the fake
   * ROTATE at stream start has timestamp 0) are ignored; the tailer should also not pass the format
   * description event replayed at connect, whose timestamp is the file's creation time.
   */
  eventRead(timestampMs: number): void {
    if (!(timestampMs > 0)) return;
    this.referenceMs = timestampMs;
    this.caughtUp = false;
  }

  /** A heartbeat arrived: nothing more to read. Its header timestamp is 0, so the clock is used. */
  heartbeat(): void {
    this.referenceMs = this.now();
    this.caughtUp = true;
  }

  /** The connection is gone: no longer known to be caught up; the lag grows from the last reference. */
  disconnected(): void {
    this.caughtUp = false;
  }

  /** Lag in seconds, or null before anything was read. Never negative (clock skew). */
  seconds(): number | null {
    if (this.caughtUp) return 0;
    if (this.referenceMs === null) return null;
    return Math.max(0, (this.now() - this.referenceMs) / 1000);
  }

  /**
   * For the gauge, which has no "unknown" (prom-client would print NaN as `Nan`): before anything was
   * read, the time since this clock was created. A tailer that never gets going then looks further and
   * further behind and trips the lag alert, instead of looking caught up at 0.
   */
  gaugeSeconds(): number {
    return this.seconds() ?? Math.max(0, (this.now() - this.startMs) / 1000);
  }
}

/**
 * When the checkpoint was last written. Before the first write the age counts from `loaded()` (the
 * checkpoint file found at start) or else from this clock's creation: a checkpoint that is never
 * written must still make the age grow and an alert fire.
 */
export class CheckpointClock {
  private referenceMs: number;
  private writtenAtMs: number | null = null;

  constructor(
    private readonly now: () => number,
    private readonly onWrite: () => void = () => undefined,
  ) {
    this.referenceMs = now();
  }

  /** A checkpoint was written (durably) at `atMs`; counts one write. */
  written(atMs: number = this.now()): void {
    this.referenceMs = atMs;
    this.writtenAtMs = atMs;
    this.onWrite();
  }

  /** The checkpoint found at start was written at `writtenAtMs` (e.g. the file's mtime); not a write. */
  loaded(writtenAtMs: number): void {
    this.referenceMs = writtenAtMs;
    this.writtenAtMs = writtenAtMs;
  }

  /** When the current checkpoint was written (ms since the epoch), or null when there is none yet. */
  writtenAt(): number | null {
    return this.writtenAtMs;
  }

  ageSeconds(): number {
    return Math.max(0, (this.now() - this.referenceMs) / 1000);
  }
}
