import type { InvalidationBatch, Sink } from '../../src/sinks/sink.js';

export interface Delivery {
  keys: string[];
  gtids: (string | undefined)[];
  /** Whatever the test's probe returned when the batch reached the sink, before it was applied. */
  observed: unknown;
}

/** Wraps a real sink and records every batch, in order, before passing it on. */
export class RecordingSink implements Sink {
  readonly name: string;
  readonly deliveries: Delivery[] = [];
  /** Every transaction delivered, in order, with its own keys. */
  readonly transactions: { gtid: string | undefined; keys: string[] }[] = [];

  constructor(
    private readonly inner: Sink,
    private readonly probe: (batch: InvalidationBatch) => Promise<unknown> = () => Promise.resolve(undefined),
  ) {
    this.name = `recording(${inner.name})`;
  }

  get keys(): string[] {
    return this.deliveries.flatMap((d) => d.keys);
  }

  async deliver(batch: InvalidationBatch, signal: AbortSignal): Promise<void> {
    const observed = await this.probe(batch);
    this.deliveries.push({ keys: [...batch.keys], gtids: batch.transactions.map((t) => t.gtid), observed });
    for (const t of batch.transactions) this.transactions.push({ gtid: t.gtid, keys: [...t.keys] });
    await this.inner.deliver(batch, signal);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
