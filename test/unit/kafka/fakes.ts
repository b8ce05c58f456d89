import type { KafkaRecord, RecordProducer } from '../../../src/sinks/kafka/producer.js';
import type { CommittedTransaction } from '../../../src/sinks/sink.js';

/** Records every acknowledged send, in order; `failNext(n)` makes the next n sends reject. */
export class RecordingProducer implements RecordProducer {
  readonly sends: { topic: string; records: KafkaRecord[] }[] = [];
  attempts = 0;
  closed = false;
  private failures = 0;

  failNext(n: number): void {
    this.failures = n;
  }

  get records(): KafkaRecord[] {
    return this.sends.flatMap((s) => s.records);
  }

  send(topic: string, records: readonly KafkaRecord[]): Promise<void> {
    this.attempts++;
    if (this.failures > 0) {
      this.failures--;
      return Promise.reject(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092'));
    }
    this.sends.push({ topic, records: [...records] });
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

export function txn(
  n: number,
  keys: string[],
  extra: Partial<CommittedTransaction> = {},
): CommittedTransaction {
  return {
    gtid: `0-1-${n}`,
    file: 'mysql-bin.000001',
    nextPosition: 1000 + n * 100,
    serverId: 1,
    commitTimeMs: 1_700_000_000_000 + n * 1000,
    keys,
    ...extra,
  };
}
