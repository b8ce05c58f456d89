/**
 * Writes the tailer's acknowledged position to the checkpoint store: on a timer, and once more at stop.
 * Writes are chained — two never overlap, so an older checkpoint can never land after a newer one, and
 * `stop()` returns only once the last write is on disk. A write that fails is retried at the next tick.
 */
import { errorFields } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { CheckpointStore, ServerIdentity } from './checkpoint.js';

export interface Position {
  file: string;
  nextPosition: number;
  /** GTID state including this transaction; null when not known (file/position start, no GTIDs). */
  gtid: { readonly isEmpty: boolean; toString(): string } | null;
}

export class CheckpointWriter {
  private saved: Position | null = null;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: CheckpointStore,
    /** What to record now: the acknowledged position and the server it belongs to. */
    private readonly current: () => { ack: Position | null; identity: ServerIdentity | null },
    private readonly log: Logger,
    private readonly onWritten: (atMs: number) => void,
  ) {}

  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.save(), intervalMs);
  }

  /** Stops the timer and writes the final position; resolves when it is on disk. */
  stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    return this.save();
  }

  save(): Promise<void> {
    this.chain = this.chain.then(() => this.write());
    return this.chain;
  }

  private async write(): Promise<void> {
    const { ack, identity } = this.current();
    if (!ack || !identity || ack === this.saved || ack.file === '' || ack.nextPosition < 4) return;
    this.saved = ack;
    try {
      const writtenAt = Date.now();
      await this.store.save({
        version: 1,
        server: identity,
        gtid: ack.gtid && !ack.gtid.isEmpty ? ack.gtid.toString() : null,
        file: ack.file,
        position: ack.nextPosition,
        writtenAt,
      });
      this.onWritten(writtenAt);
    } catch (err) {
      this.saved = null;
      this.log.error(errorFields(err), 'checkpoint write failed; will retry');
    }
  }
}
