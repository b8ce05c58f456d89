/**
 * InvalidationApplied: what the region's memcached tier has actually caught up to. Reads the memcached
 * tailer's watermark through a getter (it never touches the tailer) and publishes it when it changed,
 * and again every `heartbeatMs` so a consumer can tell a quiet region from a dead publisher.
 *
 * Unlike invalidations these are states, not events: only the latest matters. So a failed publish is
 * logged and counted, and the next tick publishes whatever the watermark is then; at most one send is in
 * flight, and nothing here can delay the memcached tailer.
 */
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  InvalidationAppliedSchema,
  type InvalidationApplied,
} from '../../gen/cachetail/v1/invalidation_pb.js';
import type { Logger } from '../../observability/logger.js';
import type { Watermark } from '../../observability/status.js';
import type { ServerIdentity } from '../../contracts/server.js';
import { kafkaErrorFields } from './client.js';
import { appliedRecord, sourceServer } from './messages.js';
import type { AppliedMetrics } from './metrics.js';
import type { RecordProducer } from './producer.js';

export interface AppliedPublisherOptions {
  producer: RecordProducer;
  topic: string;
  region: string;
  tailerId: string;
  /** The memcached tailer's watermark (null before anything was acknowledged). */
  watermark: () => Watermark | null;
  /** The server the memcached tailer reads (null before it connected). */
  source: () => ServerIdentity | null;
  log: Logger;
  intervalMs: number;
  heartbeatMs: number;
  metrics?: AppliedMetrics;
  now?: () => number;
}

export class AppliedPublisher {
  readonly stats = { published: 0, failed: 0 };
  /** The last watermark the broker acknowledged. */
  lastPublished: InvalidationApplied | null = null;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private lastKey = '';
  private lastAt = 0;
  private readonly now: () => number;

  constructor(private readonly opts: AppliedPublisherOptions) {
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.opts.intervalMs);
    this.timer.unref();
    void this.tick();
  }

  /** Stops the timer, publishes the final watermark once (best effort), closes the producer. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.inFlight;
    await this.tick(true);
    await this.opts.producer.close();
  }

  /** One check: publishes when the watermark changed or the heartbeat is due. Never rejects. */
  async tick(force = false): Promise<void> {
    if (this.inFlight) return this.inFlight;
    const wm = this.opts.watermark();
    if (!wm) return;
    const key = `${wm.gtid}|${wm.file}|${wm.position}`;
    const now = this.now();
    if (!force && key === this.lastKey && now - this.lastAt < this.opts.heartbeatMs) return;
    const message = create(InvalidationAppliedSchema, {
      region: this.opts.region,
      tailerId: this.opts.tailerId,
      source: sourceServer(this.opts.source()),
      watermarkGtid: wm.gtid,
      watermarkPosition: { file: wm.file, position: BigInt(wm.position) },
      appliedTime: timestampFromMs(wm.updatedAt),
      publishTime: timestampFromMs(now),
    });
    this.inFlight = this.publish(message, key, now).finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async publish(message: InvalidationApplied, key: string, now: number): Promise<void> {
    try {
      await this.opts.producer.send(this.opts.topic, [appliedRecord(message)]);
      this.lastKey = key;
      this.lastAt = now;
      this.lastPublished = message;
      this.stats.published++;
      this.opts.metrics?.published();
    } catch (err) {
      this.stats.failed++;
      this.opts.metrics?.publishError();
      this.opts.log.warn(
        { ...kafkaErrorFields(err), topic: this.opts.topic },
        'publishing the applied watermark failed; the next tick publishes the latest',
      );
    }
  }
}
