/**
 * The little the sink and the applied publisher need from a Kafka client, so the library can be
 * swapped (and tests can record): send a set of records to one topic and learn whether the broker
 * acknowledged all of them. The kafkajs implementation below is the only file that knows kafkajs's
 * producer API.
 */
import { CompressionTypes, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from '../../observability/logger.js';
import { kafkaErrorFields } from './client.js';

export interface KafkaRecord {
  /** Message key: decides the partition, so one key's records stay in order. */
  key: string;
  value: Uint8Array;
  headers: Readonly<Record<string, string>>;
}

export interface RecordProducer {
  /**
   * Resolves once the broker acknowledged every record (acks=all: every in-sync replica has it).
   * Rejects otherwise — possibly after writing some of them; the caller sends the whole set again.
   * Calls are not concurrent: the caller waits for one before the next (ordering, idempotence).
   */
  send(topic: string, records: readonly KafkaRecord[]): Promise<void>;
  close(): Promise<void>;
}

export interface KafkajsProducerOptions {
  kafka: Kafka;
  log: Logger;
  compression: 'none' | 'gzip';
  /** Broker-side wait for the in-sync replicas' acknowledgement (ms). */
  ackTimeoutMs?: number;
  /** kafkajs's own retries within one `send` (then it rejects and the caller backs off). */
  retries?: number;
}

/** Protocol errors of the idempotence bookkeeping: only a new producer id gets past them. */
const PRODUCER_STATE_ERRORS = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
  'INVALID_PRODUCER_ID_MAPPING',
]);

function errorTypes(err: unknown, depth = 0): string[] {
  if (typeof err !== 'object' || err === null || depth > 4) return [];
  const e = err as { type?: unknown; originalError?: unknown; cause?: unknown };
  return [
    ...(typeof e.type === 'string' ? [e.type] : []),
    ...errorTypes(e.originalError, depth + 1),
    ...errorTypes(e.cause, depth + 1),
  ];
}

/**
 * kafkajs producer: idempotent (the broker drops a batch it already has when a retry re-sends it with
 * the same sequence numbers — kafkajs rolls them back on a failed request), acks=all, topic
 * auto-creation off (a typo in the topic name must fail, not create a topic with broker defaults).
 * Connected lazily, so a tailer starts while Kafka is down.
 */
export class KafkajsProducer implements RecordProducer {
  private producer: Producer | null = null;
  private connected: Promise<void> | null = null;
  private readonly log: Logger;

  constructor(private readonly opts: KafkajsProducerOptions) {
    this.log = opts.log;
  }

  async send(topic: string, records: readonly KafkaRecord[]): Promise<void> {
    const producer = await this.connect();
    try {
      await producer.send({
        topic,
        acks: -1,
        timeout: this.opts.ackTimeoutMs ?? 30_000,
        compression: this.opts.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
        messages: records.map((r) => ({
          key: r.key,
          value: Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength),
          headers: { ...r.headers },
        })),
      });
    } catch (err) {
      if (errorTypes(err).some((t) => PRODUCER_STATE_ERRORS.has(t))) {
        // Stuck sequence numbers would fail every retry; a new producer id may duplicate, never block.
        this.log.warn(kafkaErrorFields(err), 'producer state rejected: starting a new producer id');
        await this.reset();
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.reset();
  }

  private connect(): Promise<Producer> {
    if (!this.producer) {
      this.producer = this.opts.kafka.producer({
        idempotent: true,
        allowAutoTopicCreation: false,
        // Bounded, so a `send` returns during an outage and the caller's backoff, logs and metrics run.
        retry: { retries: this.opts.retries ?? 5, initialRetryTime: 100, maxRetryTime: 2_000 },
      });
    }
    const producer = this.producer;
    this.connected ??= producer.connect().catch((err: unknown) => {
      this.connected = null;
      throw err;
    });
    return this.connected.then(() => producer);
  }

  private async reset(): Promise<void> {
    const producer = this.producer;
    this.producer = null;
    this.connected = null;
    await producer?.disconnect().catch(() => undefined);
  }
}
