/**
 * The last few invalidated keys, for the dashboard. A fixed-size ring: memory stays bounded whatever the
 * key rate, and a newcomer only needs to see that the key they just wrote went away, with its GTID and
 * how long it took.
 *
 * Fed by observing a sink's deliveries (`recordDeliveries`), so nothing in the tailer changes: an entry
 * is added only after `deliver` resolved, i.e. when the sink acknowledged the key.
 */
import { CachetailError } from '../errors.js';
import type { InvalidationBatch, Sink } from '../sinks/sink.js';

export interface RecentKey {
  key: string;
  /** GTID of the transaction that named it ('' when the server assigns none). */
  gtid: string;
  /** Commit time from the binlog event header (ms; the header has 1-second precision). */
  commitTimeMs: number;
  /** The writer's `ts=` annotation field (ms), when the transaction carried one. */
  writerTimeMs: number | null;
  /** When the sink acknowledged the delete (ms). */
  acknowledgedAt: number;
}

export const DEFAULT_RECENT_KEYS = 50;

export class RecentKeys {
  private readonly ring: (RecentKey | undefined)[];
  private next = 0;
  private total = 0;

  constructor(readonly capacity = DEFAULT_RECENT_KEYS) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new CachetailError('INTERNAL', `RecentKeys: capacity must be ≥ 1, got ${capacity}`);
    }
    this.ring = new Array<RecentKey | undefined>(capacity);
  }

  add(entry: RecentKey): void {
    this.ring[this.next] = entry;
    this.next = (this.next + 1) % this.capacity;
    this.total++;
  }

  /** Keys recorded since start (the ring only keeps the last `capacity`). */
  get recorded(): number {
    return this.total;
  }

  /** Newest first. */
  list(limit = this.capacity): RecentKey[] {
    const out: RecentKey[] = [];
    for (let i = 1; i <= this.capacity && out.length < limit; i++) {
      const e = this.ring[(this.next - i + this.capacity) % this.capacity];
      if (e === undefined) break;
      out.push(e);
    }
    return out;
  }

  /** Records every key of an acknowledged batch, in commit order. */
  addBatch(batch: InvalidationBatch, acknowledgedAt: number): void {
    for (const txn of batch.transactions) {
      // A spilled transaction is delivered in chunks whose keys are in `batch.keys`, not in the txn.
      const keys = txn.spilled ? batch.keys : txn.keys;
      for (const key of keys) {
        this.add({
          key,
          gtid: txn.gtid ?? '',
          commitTimeMs: txn.commitTimeMs,
          writerTimeMs: txn.writerTimeMs ?? null,
          acknowledgedAt,
        });
      }
    }
  }
}

/** Records acknowledged batches in `ring` (see observeDeliveries). */
export function recordDeliveries(sink: Sink, ring: RecentKeys, now: () => number = Date.now): () => void {
  return observeDeliveries(sink, (batch) => ring.addBatch(batch, now()));
}

/**
 * Wraps `sink.deliver` in place so that `onAcknowledged` sees every batch the sink acknowledged (and
 * none that failed). In place, not as a new Sink object, because the tailer factory builds its sink and
 * tailer together (src/wiring/memcached-tailer.ts) and the tailer already holds this object; the method is looked
 * up on every call, so replacing it before `tailer.start()` is enough. Returns a function that restores
 * it. `onAcknowledged` must not throw: it would turn an acknowledged batch into a failed one.
 */
export function observeDeliveries(
  sink: Sink,
  onAcknowledged: (batch: InvalidationBatch) => void,
): () => void {
  const own = Object.getOwnPropertyDescriptor(sink, 'deliver');
  const original = sink.deliver.bind(sink);
  const deliver: Sink['deliver'] = async (batch, signal) => {
    await original(batch, signal);
    onAcknowledged(batch);
  };
  (sink as { deliver: Sink['deliver'] }).deliver = deliver;
  return () => {
    // Back to exactly what was there: the class's method (no own property) or an own one.
    if (own) Object.defineProperty(sink, 'deliver', own);
    else delete (sink as { deliver?: Sink['deliver'] }).deliver;
  };
}
