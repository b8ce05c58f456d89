/**
 * Publishes invalidations to Kafka: the Sink of the Kafka tailer (a second Tailer with its own
 * replication connection and checkpoint, see tailer.ts), so a Kafka outage stalls only that tailer.
 *
 * Guarantee: `deliver` resolves only when the broker acknowledged (acks=all) one record per key of every
 * transaction in the batch, in commit order. A failed send is retried — the same records, with backoff —
 * until it succeeds or the tailer stops (the signal aborts); nothing is ever skipped, so after an outage
 * or a restart some records may be on the topic twice, with the same event id (at-least-once).
 */
import { CachetailError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { ServerIdentity } from '../../contracts/server.js';
import type { CommittedTransaction, InvalidationBatch, Sink } from '../sink.js';
import { kafkaErrorCode, kafkaErrorFields, kafkaErrorMessage } from './client.js';
import { invalidationRecord, invalidationsOf } from './messages.js';
import type { KafkaSinkMetrics } from './metrics.js';
import type { KafkaRecord, RecordProducer } from './producer.js';

export interface KafkaSinkOptions {
  producer: RecordProducer;
  topic: string;
  /** `origin_region` of every record: the region this tailer runs in. */
  region: string;
  /** The server being read (flavor, server id/uuid); known once the tailer has connected. */
  source: () => ServerIdentity | null;
  log: Logger;
  /** Records per send at most; a larger batch goes as several sends, in order. */
  maxRecordsPerSend: number;
  backoff: { initialMs: number; maxMs: number };
  metrics?: KafkaSinkMetrics;
}

export interface KafkaSinkStats {
  /** Records acknowledged (a re-sent record counts again). */
  published: number;
  sends: number;
  failedSends: number;
  /** Message of the last failed send while it is still failing; null once a send succeeds. */
  failing: string | null;
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortReason(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The send, or the abort if it comes first: a client's own retries must not hold up a stopping tailer.
 * An abandoned send may still land; it was not acknowledged, so the records are sent again after a
 * restart (a duplicate, never a gap).
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(
          err instanceof Error
            ? err
            : new CachetailError(kafkaErrorCode(err), kafkaErrorMessage(err), { cause: err }),
        );
      },
    );
  });
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new CachetailError('STOPPED', 'delivery aborted');
}

export class KafkaSink implements Sink {
  readonly name = 'kafka';
  readonly stats: KafkaSinkStats = { published: 0, sends: 0, failedSends: 0, failing: null };
  private readonly log: Logger;
  /** A spilled transaction arrives in chunks; its keys' indexes continue from one chunk to the next. */
  private spillCursor: { txn: CommittedTransaction; next: number } | null = null;
  private failingSince: number | null = null;

  constructor(private readonly opts: KafkaSinkOptions) {
    this.log = opts.log;
  }

  async deliver(batch: InvalidationBatch, signal: AbortSignal): Promise<void> {
    const { records, spill } = this.records(batch);
    const max = Math.max(1, this.opts.maxRecordsPerSend);
    for (let i = 0; i < records.length; i += max) {
      await this.sendUntilAcknowledged(records.slice(i, i + max), signal);
    }
    this.spillCursor = spill;
  }

  close(): Promise<void> {
    return this.opts.producer.close();
  }

  private records(batch: InvalidationBatch): {
    records: KafkaRecord[];
    spill: { txn: CommittedTransaction; next: number } | null;
  } {
    const ctx = { region: this.opts.region, source: this.opts.source() };
    const only = batch.transactions.length === 1 ? batch.transactions[0] : undefined;
    if (only?.spilled) {
      // The batch's keys are the next chunk of this transaction's spilled keys.
      const first = this.spillCursor?.txn === only ? this.spillCursor.next : 0;
      const invalidations = invalidationsOf(only, batch.keys, first, only.spilled.count, ctx);
      return {
        records: invalidations.map(invalidationRecord),
        spill: { txn: only, next: first + batch.keys.length },
      };
    }
    const records: KafkaRecord[] = [];
    for (const txn of batch.transactions) {
      for (const inv of invalidationsOf(txn, txn.keys, 0, txn.keys.length, ctx)) {
        records.push(invalidationRecord(inv));
      }
    }
    return { records, spill: null };
  }

  private async sendUntilAcknowledged(records: KafkaRecord[], signal: AbortSignal): Promise<void> {
    const { initialMs, maxMs } = this.opts.backoff;
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) throw abortReason(signal);
      const started = performance.now();
      try {
        await untilAborted(this.opts.producer.send(this.opts.topic, records), signal);
      } catch (err) {
        if (signal.aborted) throw abortReason(signal);
        const message = kafkaErrorMessage(err);
        this.stats.failedSends++;
        this.stats.failing = message;
        this.failingSince ??= Date.now();
        this.opts.metrics?.publishError();
        const delay = Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 20));
        const retryInMs = Math.round(delay * (0.5 + Math.random() / 2));
        this.log.warn(
          {
            ...kafkaErrorFields(err),
            attempt,
            records: records.length,
            retryInMs,
            topic: this.opts.topic,
            failingForMs: Date.now() - this.failingSince,
          },
          'publishing to Kafka failed; retrying the same records (memcached deletes are not affected)',
        );
        await sleep(retryInMs, signal);
        continue;
      }
      const seconds = (performance.now() - started) / 1000;
      this.stats.sends++;
      this.stats.published += records.length;
      this.opts.metrics?.published(records.length, seconds);
      if (this.failingSince !== null) {
        this.log.info(
          { afterAttempts: attempt, downForMs: Date.now() - this.failingSince },
          'publishing to Kafka works again',
        );
        this.failingSince = null;
        this.stats.failing = null;
      }
      return;
    }
  }
}
