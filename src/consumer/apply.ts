/**
 * Applies Invalidation records of one partition to a cache tier, in offset order, and says which offset
 * may be committed — only ever one whose records before it were all deleted (acknowledged by the tier,
 * or journaled by the memcached sink). Knows nothing of Kafka's client: consumer.ts feeds it.
 *
 * Per step of up to `maxKeys` records: decode, drop repeats by event id (EventWindow), delete the rest's
 * keys through the sink, remember their ids, then commit the offset after the step's last record.
 */
import { timestampMs } from '@bufbuild/protobuf/wkt';
import type { Invalidation } from '../gen/cachetail/v1/invalidation_pb.js';
import { CachetailError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { decodeInvalidation } from '../sinks/kafka/messages.js';
import type { CommittedTransaction, Sink } from '../sinks/sink.js';
import type { EventWindow } from './dedup.js';
import type { ConsumerMetrics } from './metrics.js';

export interface RawRecord {
  offset: string;
  value: Buffer | null;
  headers?: Readonly<Record<string, Buffer | string | (Buffer | string)[] | undefined>>;
}

export interface ApplierOptions {
  sink: Sink;
  window: EventWindow;
  maxKeys: number;
  onMalformed: 'stop' | 'skip';
  log: Logger;
  metrics?: ConsumerMetrics;
  now?: () => number;
}

export interface ApplierStats {
  messages: number;
  applied: number;
  duplicates: number;
  malformed: number;
  keysDeleted: number;
  commits: number;
}

function asTransaction(inv: Invalidation): CommittedTransaction {
  return {
    gtid: inv.gtid === '' ? undefined : inv.gtid,
    file: inv.position?.file ?? '',
    nextPosition: Number(inv.position?.position ?? 0n),
    serverId: inv.originServerId,
    commitTimeMs: inv.commitTime ? timestampMs(inv.commitTime) : 0,
    keys: [inv.key],
    writerTimeMs: inv.writerTime ? timestampMs(inv.writerTime) : undefined,
  };
}

export class Applier {
  readonly stats: ApplierStats = {
    messages: 0,
    applied: 0,
    duplicates: 0,
    malformed: 0,
    keysDeleted: 0,
    commits: 0,
  };
  private readonly now: () => number;

  constructor(private readonly opts: ApplierOptions) {
    this.now = opts.now ?? Date.now;
  }

  /**
   * Applies `records` (one partition, ascending offsets). `commit(next)` is called with the offset after
   * the last record of each applied step. In `stop` mode a malformed record ends the call with a
   * MALFORMED_MESSAGE error after committing what came before it; nothing from it on is committed.
   */
  async apply(
    records: readonly RawRecord[],
    commit: (nextOffset: string) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void> {
    const step = Math.max(1, this.opts.maxKeys);
    for (let i = 0; i < records.length; i += step) {
      await this.applyStep(records.slice(i, i + step), commit, signal);
    }
  }

  private async applyStep(
    records: readonly RawRecord[],
    commit: (nextOffset: string) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void> {
    const fresh: Invalidation[] = [];
    const ids = new Set<string>();
    let last: RawRecord | null = null;
    let stopAt: CachetailError | null = null;
    for (const record of records) {
      this.stats.messages++;
      let inv: Invalidation;
      try {
        inv = decodeInvalidation(record.value, record.headers);
      } catch (err) {
        const e = err instanceof CachetailError ? err : new CachetailError('MALFORMED_MESSAGE', String(err));
        this.stats.malformed++;
        this.opts.metrics?.messages('malformed');
        if (this.opts.onMalformed === 'stop') {
          stopAt = new CachetailError(
            'MALFORMED_MESSAGE',
            `offset ${record.offset}: ${e.message}; stopping uncommitted (onMalformed: "stop")`,
          );
          break;
        }
        this.opts.log.error(
          { offset: record.offset, err: e.message, code: e.code },
          'malformed message skipped',
        );
        last = record;
        continue;
      }
      last = record;
      if (this.opts.window.has(inv.eventId) || ids.has(inv.eventId)) {
        this.stats.duplicates++;
        this.opts.metrics?.messages('duplicate');
        continue;
      }
      ids.add(inv.eventId);
      fresh.push(inv);
    }
    if (fresh.length > 0) {
      const keys = [...new Set(fresh.map((inv) => inv.key))];
      await this.opts.sink.deliver({ transactions: fresh.map(asTransaction), keys }, signal);
      const now = this.now();
      for (const inv of fresh) {
        this.opts.window.add(inv.eventId);
        if (inv.commitTime) this.opts.metrics?.applyLatency((now - timestampMs(inv.commitTime)) / 1000);
      }
      this.stats.applied += fresh.length;
      this.stats.keysDeleted += keys.length;
      this.opts.metrics?.messages('applied', fresh.length);
      this.opts.metrics?.keysDeleted(keys.length);
    }
    if (last) {
      await commit((BigInt(last.offset) + 1n).toString());
      this.stats.commits++;
      this.opts.metrics?.committed();
    }
    if (stopAt) throw stopAt;
  }
}
