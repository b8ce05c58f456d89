import { describe, expect, it } from 'vitest';
import { evaluateTailers, type TailerReading } from '../../../src/edge/tailer-status.js';
import { LocalWatermark, type StatusFetcher } from '../../../src/edge/watermark.js';
import type { LocalState } from '../../../src/edge/types.js';
import { Clock, T0 } from './fixtures.js';

const limits = { region: 'eu', maxWatermarkAgeMs: 10_000, maxLagSeconds: 20 };
const body = (over: Record<string, unknown> = {}) => ({
  region: 'eu',
  state: 'streaming',
  ready: true,
  watermark: { gtid: '0-1-57', file: 'mariadb-bin.000003', position: 1234, updatedAt: T0 - 1_000 },
  lagSeconds: 0.5,
  lastError: null,
  ...over,
});
const ok = (b: unknown, url = 'http://t1/status'): TailerReading => ({ url, ok: true, body: b });
const summary = (s: LocalState): string =>
  s.healthy ? `healthy ${s.watermarks.map((w) => `${w.url}=${w.gtid.toString()}`).join(' ')}` : s.problem;

describe('evaluateTailers', () => {
  it.each([
    ['streaming', body(), 'healthy http://t1/status=0-1-57'],
    ['paused by backpressure', body({ state: 'paused' }), 'healthy http://t1/status=0-1-57'],
    [
      'extra fields',
      body({ pendingTransactions: 3, notReady: undefined }),
      'healthy http://t1/status=0-1-57',
    ],
    ['lag unknown', body({ lagSeconds: null }), 'healthy http://t1/status=0-1-57'],
    ['lag at the limit', body({ lagSeconds: 20 }), 'healthy http://t1/status=0-1-57'],
    ['lag over', body({ lagSeconds: 20.5 }), 'tailer http://t1/status: lag 20.5 s (limit 20 s)'],
    ['not ready', body({ ready: false }), 'tailer http://t1/status: not ready'],
    ['connecting', body({ state: 'connecting' }), 'tailer http://t1/status: state connecting'],
    ['an unknown state', body({ state: 'warming' }), 'tailer http://t1/status: state warming'],
    [
      'failed',
      body({
        state: 'failed',
        ready: false,
        lastError: { code: 'POSITION_PURGED', message: 'binlog purged' },
      }),
      'tailer http://t1/status: state failed (POSITION_PURGED: binlog purged)',
    ],
    ['no watermark', body({ watermark: null }), 'tailer http://t1/status: no watermark yet'],
    [
      'stale watermark',
      body({ watermark: { gtid: '0-1-57', file: 'f', position: 4, updatedAt: T0 - 10_001 } }),
      'tailer http://t1/status: watermark is 10001 ms old (limit 10000 ms)',
    ],
    [
      'another region',
      body({ region: 'us' }),
      'tailer http://t1/status: reports region "us", the edge is in "eu"',
    ],
    [
      'a field missing',
      { region: 'eu', state: 'streaming', ready: true, watermark: null, lastError: null },
      'tailer http://t1/status: unexpected /status answer (lagSeconds: Invalid input: expected number, received undefined)',
    ],
    [
      'not an object',
      'hello',
      'tailer http://t1/status: unexpected /status answer ((root): Invalid input: expected object, received string)',
    ],
    [
      'a GTID that does not parse',
      body({ watermark: { gtid: '0-1', file: 'f', position: 4, updatedAt: T0 } }),
      'tailer http://t1/status: watermark GTID "0-1" does not parse: GTID_PARSE: entry "0-1" in "0-1"',
    ],
  ])('%s', (_name, b, expected) => {
    expect(summary(evaluateTailers([ok(b)], limits, T0))).toBe(expected);
  });

  it('turns the age and lag checks off with 0', () => {
    const old = body({
      lagSeconds: 1_000,
      watermark: { gtid: '0-1-1', file: 'f', position: 4, updatedAt: 0 },
    });
    expect(
      summary(evaluateTailers([ok(old)], { region: 'eu', maxWatermarkAgeMs: 0, maxLagSeconds: 0 }, T0)),
    ).toBe('healthy http://t1/status=0-1-1');
  });

  it('is healthy only when every tailer is, and names the first that is not', () => {
    const two = [
      ok(body(), 'http://t1/status'),
      ok(body({ watermark: { gtid: '1-2-9', file: 'f', position: 4, updatedAt: T0 } }), 'http://t2/status'),
    ];
    expect(summary(evaluateTailers(two, limits, T0))).toBe(
      'healthy http://t1/status=0-1-57 http://t2/status=1-2-9',
    );
    const oneDown: TailerReading[] = [
      ok(body()),
      { url: 'http://t2/status', ok: false, problem: 'unreachable (ECONNREFUSED)' },
    ];
    expect(summary(evaluateTailers(oneDown, limits, T0))).toBe(
      'tailer http://t2/status: unreachable (ECONNREFUSED)',
    );
  });
});

/** A fetcher whose answers the test sets and whose calls it counts; answers can be held back. */
class FakeFetcher {
  calls: string[] = [];
  answer: (url: string) => TailerReading | Promise<TailerReading> = (url) => ok(body(), url);
  fetch: StatusFetcher = (url) => {
    this.calls.push(url);
    return Promise.resolve(this.answer(url));
  };
}

describe('LocalWatermark', () => {
  const make = (fetcher: FakeFetcher, clock: Clock, onRefresh?: (s: LocalState) => void) =>
    new LocalWatermark({
      urls: ['http://t1/status'],
      limits,
      cacheMs: 500,
      timeoutMs: 100,
      fetchStatus: fetcher.fetch,
      now: clock.now,
      onRefresh,
    });

  it('reuses one round of answers for cacheMs, then asks again', async () => {
    const fetcher = new FakeFetcher();
    const clock = new Clock();
    const wm = make(fetcher, clock);
    expect(wm.peek()).toBeUndefined();
    expect(summary(await wm.current())).toBe('healthy http://t1/status=0-1-57');
    clock.advance(499);
    await wm.current();
    expect(fetcher.calls).toEqual(['http://t1/status']);
    fetcher.answer = (url) =>
      ok(body({ watermark: { gtid: '0-1-60', file: 'f', position: 4, updatedAt: T0 } }), url);
    clock.advance(1);
    expect(summary(await wm.current())).toBe('healthy http://t1/status=0-1-60');
    expect(fetcher.calls).toHaveLength(2);
    expect(summary(wm.peek()!)).toBe('healthy http://t1/status=0-1-60');
  });

  it('single-flight: concurrent callers share one refresh', async () => {
    const fetcher = new FakeFetcher();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    fetcher.answer = async (url) => {
      await held;
      return ok(body(), url);
    };
    const wm = make(fetcher, new Clock());
    const all = Promise.all([wm.current(), wm.current(), wm.current()]);
    release();
    const states = await all;
    expect(fetcher.calls).toHaveLength(1);
    expect(states.map(summary)).toEqual(Array(3).fill('healthy http://t1/status=0-1-57'));
  });

  it('caches a failure too, and a fetcher that throws is a reading that says why', async () => {
    const fetcher = new FakeFetcher();
    fetcher.answer = () => {
      throw new Error('boom');
    };
    const clock = new Clock();
    const seen: boolean[] = [];
    const wm = make(fetcher, clock, (s) => seen.push(s.healthy));
    expect(summary(await wm.current())).toBe('tailer http://t1/status: boom');
    await wm.current();
    expect(fetcher.calls).toHaveLength(1);
    fetcher.answer = (url) => ok(body(), url);
    clock.advance(500);
    expect(summary(await wm.current())).toBe('healthy http://t1/status=0-1-57');
    expect(seen).toEqual([false, true]);
  });
});
