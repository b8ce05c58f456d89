/**
 * The consumer library: reads the invalidation topic as a consumer group and applies it to one cache
 * tier through an Applier. Offsets are committed by hand (autoCommit off), each only after the deletes
 * of every record before it were acknowledged, so a crash or a rebalance repeats deletes and never skips
 * one. The group's lag (log end offset minus committed offset, per partition) is read from the brokers
 * every `lagIntervalMs`, exported and logged.
 */
import type { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { CachetailError, errorFields } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { kafkaErrorFields, kafkaErrorMessage } from '../sinks/kafka/client.js';
import type { Applier } from './apply.js';
import type { ConsumerMetrics } from './metrics.js';

export interface InvalidationConsumerOptions {
  kafka: Kafka;
  topic: string;
  groupId: string;
  /** Where a group without committed offsets starts. */
  start: 'earliest' | 'latest';
  sessionTimeoutMs: number;
  applier: Applier;
  lagIntervalMs: number;
  log: Logger;
  metrics?: ConsumerMetrics;
}

export type ConsumerState = 'idle' | 'running' | 'stopped' | 'failed';

export class InvalidationConsumer {
  state: ConsumerState = 'idle';
  lastError: CachetailError | null = null;
  /** Messages behind, per partition, as last read from the brokers (or after a batch). */
  readonly lag = new Map<number, number>();
  lagReadAt: number | null = null;

  private readonly consumer: Consumer;
  private readonly admin: Admin;
  private readonly abort = new AbortController();
  private lagTimer: NodeJS.Timeout | null = null;
  private finished: (() => void) | null = null;
  readonly done: Promise<void>;
  private readonly log: Logger;

  constructor(private readonly opts: InvalidationConsumerOptions) {
    this.log = opts.log.child({ module: 'consumer' });
    this.consumer = opts.kafka.consumer({
      groupId: opts.groupId,
      sessionTimeout: opts.sessionTimeoutMs,
      allowAutoTopicCreation: false,
    });
    this.admin = opts.kafka.admin();
    this.done = new Promise((resolve) => (this.finished = resolve));
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload;
      if (restart) {
        this.log.warn(
          kafkaErrorFields(error),
          'consumer error; kafkajs restarts it from the committed offsets',
        );
        return;
      }
      this.fail(new CachetailError('CONSUMER_CRASHED', kafkaErrorMessage(error), { cause: error }));
    });
  }

  async start(): Promise<void> {
    await Promise.all([this.consumer.connect(), this.admin.connect()]);
    await this.consumer.subscribe({
      topics: [this.opts.topic],
      fromBeginning: this.opts.start === 'earliest',
    });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.onBatch(payload),
    });
    this.state = 'running';
    this.log.info({ topic: this.opts.topic, groupId: this.opts.groupId }, 'consuming');
    this.lagTimer = setInterval(() => void this.readLag(), this.opts.lagIntervalMs);
    this.lagTimer.unref();
    void this.readLag();
  }

  /** Stops fetching; an apply still running after `drainMs` is aborted (and not committed). */
  async stop(drainMs = 10_000): Promise<void> {
    if (this.state === 'stopped') return;
    if (this.lagTimer) clearInterval(this.lagTimer);
    const timer = setTimeout(() => this.abort.abort(stopped()), drainMs);
    try {
      await this.consumer.disconnect();
    } finally {
      clearTimeout(timer);
      await this.admin.disconnect().catch(() => undefined);
      if (this.state !== 'failed') this.state = 'stopped';
      this.finished?.();
    }
  }

  /** Reads the group's committed offsets and the log end offsets; updates `lag`. Never rejects. */
  async readLag(): Promise<void> {
    try {
      const [committed, ends] = await Promise.all([
        this.admin.fetchOffsets({ groupId: this.opts.groupId, topics: [this.opts.topic] }),
        this.admin.fetchTopicOffsets(this.opts.topic),
      ]);
      const byPartition = new Map(committed[0]?.partitions.map((p) => [p.partition, BigInt(p.offset)]) ?? []);
      let total = 0;
      for (const end of ends) {
        const c = byPartition.get(end.partition) ?? -1n;
        // No commit yet: everything still in the partition is ahead of the group.
        const from = c < 0n ? BigInt(end.low) : c;
        const lag = Number(BigInt(end.high) - from);
        this.setLag(end.partition, Math.max(0, lag));
        total += Math.max(0, lag);
      }
      this.lagReadAt = Date.now();
      this.log.info({ lag: total, partitions: Object.fromEntries(this.lag) }, 'consumer group lag');
    } catch (err) {
      this.log.warn(kafkaErrorFields(err), 'could not read the consumer group lag');
    }
  }

  private setLag(partition: number, messages: number): void {
    this.lag.set(partition, messages);
    this.opts.metrics?.lag(partition, messages);
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (!payload.isRunning() || payload.isStale()) return;
    const { topic, partition } = batch;
    try {
      await this.opts.applier.apply(
        batch.messages,
        async (next) => {
          await this.consumer.commitOffsets([{ topic, partition, offset: next }]);
          payload.resolveOffset((BigInt(next) - 1n).toString());
          this.setLag(partition, Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(next))));
          await payload.heartbeat();
        },
        this.abort.signal,
      );
    } catch (err) {
      if (err instanceof CachetailError && err.code === 'MALFORMED_MESSAGE') this.fail(err);
      else if (!this.abort.signal.aborted) {
        this.log.warn({ ...errorFields(err), partition }, 'applying a batch failed; it is fetched again');
      }
      throw err;
    }
  }

  private fail(err: CachetailError): void {
    if (this.state === 'failed' || this.state === 'stopped') return;
    this.state = 'failed';
    this.lastError = err;
    this.log.error({ err: err.message, code: err.code }, 'consumer stopped on error');
    void this.stop(0);
  }
}

function stopped(): CachetailError {
  return new CachetailError('STOPPED', 'consumer stopped');
}
