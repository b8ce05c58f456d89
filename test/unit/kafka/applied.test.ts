/** AppliedPublisher: publishes a changed watermark, repeats an unchanged one on the heartbeat only. */
import { describe, expect, it } from 'vitest';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import { createLogger } from '../../../src/observability/logger.js';
import type { Watermark } from '../../../src/observability/status.js';
import { AppliedPublisher } from '../../../src/sinks/kafka/applied.js';
import { decodeApplied } from '../../../src/sinks/kafka/messages.js';
import { RecordingProducer } from './fakes.js';

function publisher(producer: RecordingProducer, wm: { current: Watermark | null }, clock: { now: number }) {
  return new AppliedPublisher({
    producer,
    topic: 'cache-invalidations-applied',
    region: 'eu',
    tailerId: 'host-1',
    watermark: () => wm.current,
    source: () => ({ flavor: 'mariadb', serverId: 2, address: '127.0.0.1:3307' }),
    log: createLogger('silent'),
    intervalMs: 1_000,
    heartbeatMs: 30_000,
    now: () => clock.now,
  });
}

const wm = (seq: number, at: number): Watermark => ({
  gtid: `0-1-${seq}`,
  file: 'mysql-bin.000001',
  position: 1000 + seq,
  updatedAt: at,
});

describe('AppliedPublisher', () => {
  it('publishes on change and on the heartbeat, nothing in between; a failure is retried at the next tick', async () => {
    const p = new RecordingProducer();
    const state: { current: Watermark | null } = { current: null };
    const clock = { now: 1_000_000 };
    const pub = publisher(p, state, clock);

    await pub.tick(); // nothing acknowledged yet: nothing to say
    state.current = wm(1, 999_000);
    await pub.tick();
    clock.now += 1_000;
    await pub.tick(); // unchanged, heartbeat not due
    state.current = wm(2, 1_001_000);
    p.failNext(1);
    await pub.tick(); // fails
    await pub.tick(); // the latest, again
    clock.now += 30_000;
    await pub.tick(); // heartbeat
    const sent = p.sends.map((s) => {
      const m = decodeApplied(s.records[0]?.value ?? new Uint8Array());
      return [
        s.topic,
        s.records[0]?.key,
        m.watermarkGtid,
        m.watermarkPosition?.position,
        timestampMs(m.publishTime!),
      ];
    });
    expect(sent).toEqual([
      ['cache-invalidations-applied', 'eu/host-1', '0-1-1', 1001n, 1_000_000],
      ['cache-invalidations-applied', 'eu/host-1', '0-1-2', 1002n, 1_001_000],
      ['cache-invalidations-applied', 'eu/host-1', '0-1-2', 1002n, 1_031_000],
    ]);
    expect(pub.stats).toEqual({ published: 3, failed: 1 });
    const last = pub.lastPublished;
    expect([last?.region, last?.tailerId, last?.source?.serverId, timestampMs(last!.appliedTime!)]).toEqual([
      'eu',
      'host-1',
      2,
      1_001_000,
    ]);
  });

  it('stop publishes the final watermark and closes the producer', async () => {
    const p = new RecordingProducer();
    const pub = publisher(p, { current: wm(5, 1) }, { now: 10 });
    await pub.tick();
    await pub.stop();
    expect(p.sends.length).toBe(2);
    expect(p.closed).toBe(true);
  });
});
