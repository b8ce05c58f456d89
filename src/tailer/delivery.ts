/**
 * Committed transactions waiting for the sink, delivered strictly in commit order, in batches of up to
 * `maxBatchKeys` keys (a single larger transaction still goes as one batch). The acknowledged position
 * only moves past a transaction once it and everything before it were delivered; transactions without
 * keys move it as soon as nothing with keys is waiting before them. `pause`/`resume` apply backpressure
 * to the reader when `maxPending` transactions or `maxPendingKeys` keys are waiting. A transaction whose
 * keys were spilled to disk is delivered alone, chunk by chunk, and acknowledged after its last chunk.
 */
import { CachetailError, errorMessage } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { CommittedTransaction, InvalidationBatch, Sink } from '../sinks/sink.js';

interface Pending<P> {
  txn: CommittedTransaction;
  /** The read position before this transaction: acknowledged once everything before it is. */
  before: P | null;
}

export interface DeliveryQueueOptions {
  sink: Sink;
  maxBatchKeys: number;
  maxPending: number;
  /** Pause reading while this many keys (held in memory) wait. */
  maxPendingKeys?: number;
  log: Logger;
  pause: () => void;
  resume: () => void;
  onDelivered: (keys: number, transactions: readonly CommittedTransaction[]) => void;
  onFailed: (err: Error) => void;
  /**
   * Runs before each batch goes to the sink (the replica commit gate, ./commit-gate.ts); the batch waits
   * for it. A rejection is handled like a sink failure.
   */
  beforeDeliver?: (batch: InvalidationBatch, signal: AbortSignal) => Promise<void>;
}

export class DeliveryQueue<P> {
  acknowledged: P | null = null;
  private readonly items: Pending<P>[] = [];
  private lastRead: P | null = null;
  /** Keys held in memory by waiting transactions (spilled ones count 0). */
  private pendingKeys = 0;
  paused = false;
  private closed = false;
  private readonly abort = new AbortController();
  private wake: (() => void) | null = null;
  private emptied: (() => void) | null = null;

  constructor(private readonly opts: DeliveryQueueOptions) {}

  get length(): number {
    return this.items.length;
  }

  /** A new baseline (start, or a skip after a gap): nothing before `pos` is waiting any more. */
  reset(pos: P): void {
    this.lastRead = pos;
    if (this.items.length === 0) this.acknowledged = pos;
  }

  push(txn: CommittedTransaction, after: P): void {
    const before = this.lastRead;
    this.lastRead = after;
    if (txn.keys.length === 0 && !txn.spilled) {
      if (this.items.length === 0) this.acknowledged = after;
      return;
    }
    this.items.push({ txn, before });
    this.pendingKeys += txn.keys.length;
    this.wake?.();
    if (!this.paused && this.overLimit()) {
      this.paused = true;
      this.opts.pause();
    }
  }

  private overLimit(): boolean {
    return (
      this.items.length >= this.opts.maxPending || this.pendingKeys >= (this.opts.maxPendingKeys ?? Infinity)
    );
  }

  private underLowWater(): boolean {
    return (
      this.items.length <= this.opts.maxPending / 2 &&
      this.pendingKeys <= (this.opts.maxPendingKeys ?? Infinity) / 2
    );
  }

  /** Sends one batch; false when the queue stopped (closed, or the sink failed). */
  private async send(batch: InvalidationBatch, signal: AbortSignal): Promise<boolean> {
    try {
      await this.opts.beforeDeliver?.(batch, signal);
      await this.opts.sink.deliver(batch, signal);
      return true;
    } catch (err) {
      if (this.closed) return false;
      this.closed = true;
      try {
        // A sink rejecting with a non-Error is a bug: INTERNAL, as the tailer reports any uncoded failure.
        this.opts.onFailed(
          err instanceof Error ? err : new CachetailError('INTERNAL', errorMessage(err), { cause: err }),
        );
      } catch {
        // onFailed reports by throwing; the queue just stops.
      }
      return false;
    }
  }

  /** Delivers until closed. Never rejects: a sink failure goes to `onFailed`. */
  async run(): Promise<void> {
    const signal = this.abort.signal;
    for (;;) {
      if (this.items.length === 0) {
        this.emptied?.();
        if (this.closed) return;
        await new Promise<void>((r) => (this.wake = r));
        this.wake = null;
        continue;
      }
      if (this.closed) return;
      const take: Pending<P>[] = [];
      const keys = new Set<string>();
      let delivered = 0;
      const first = this.items[0];
      if (first.txn.spilled) {
        take.push(first);
        for await (const chunk of first.txn.spilled.batches(this.opts.maxBatchKeys)) {
          if (!(await this.send({ transactions: [first.txn], keys: chunk }, signal))) return;
          delivered += chunk.length;
        }
        first.txn.spilled.discard();
      } else {
        for (const p of this.items) {
          if (p.txn.spilled) break;
          if (take.length > 0 && keys.size + p.txn.keys.length > this.opts.maxBatchKeys) break;
          take.push(p);
          for (const k of p.txn.keys) keys.add(k);
        }
        if (!(await this.send({ transactions: take.map((p) => p.txn), keys: [...keys] }, signal))) return;
        delivered = keys.size;
      }
      const transactions = take.map((p) => p.txn);
      for (const p of take) this.pendingKeys -= p.txn.keys.length;
      this.items.splice(0, take.length);
      this.acknowledged = this.items[0] ? this.items[0].before : this.lastRead;
      this.opts.onDelivered(delivered, transactions);
      if (this.paused && this.underLowWater()) {
        this.paused = false;
        this.opts.resume();
      }
    }
  }

  /** Waits until everything queued is delivered or `ms` passed, then closes. */
  async drain(ms: number): Promise<void> {
    if (this.items.length > 0 && !this.closed) {
      const emptied = new Promise<void>((r) => (this.emptied = r));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((r) => (timer = setTimeout(r, ms)));
      await Promise.race([emptied, timeout]);
      clearTimeout(timer);
      if (this.items.length > 0) {
        this.opts.log.warn(
          { pending: this.items.length },
          'stopping with undelivered transactions; they will be read again',
        );
      }
    }
    this.close();
  }

  /** Stops delivering; an in-flight delivery is aborted (and not acknowledged). */
  close(): void {
    if (!this.closed) {
      this.closed = true;
      this.abort.abort(new CachetailError('STOPPED', 'tailer stopped'));
    }
    this.wake?.();
  }
}
