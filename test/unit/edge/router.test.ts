import { describe, expect, it } from 'vitest';
import { parseGtidState } from '../../../src/binlog/index.js';
import { signRecentWrite } from '../../../src/edge/cookie.js';
import { EdgeRouter, varyWithCookie, type ResponseHeaders } from '../../../src/edge/router.js';
import { compileRouteRules } from '../../../src/edge/routes.js';
import type { LocalState } from '../../../src/edge/types.js';
import type { LocalWatermark } from '../../../src/edge/watermark.js';
import { Clock, RecordingMetrics, T0, ringA } from './fixtures.js';

/** A watermark source whose state the test sets; counts how often it was asked. */
class FixedWatermark {
  asked = 0;
  constructor(public state: LocalState) {}
  current(): Promise<LocalState> {
    this.asked++;
    return Promise.resolve(this.state);
  }
  peek(): LocalState {
    return this.state;
  }
}

/** Response headers as a plain map, recording Set-Cookie values in order. */
class Headers implements ResponseHeaders {
  map = new Map<string, string | number | readonly string[]>();
  cookies: string[] = [];
  constructor(init: Record<string, string> = {}) {
    for (const [k, v] of Object.entries(init)) this.map.set(k, v);
  }
  get = (name: string) => this.map.get(name);
  set = (name: string, value: string) => void this.map.set(name, value);
  remove = (name: string) => void this.map.delete(name);
  appendSetCookie = (value: string) => void this.cookies.push(value);
  get plain(): Record<string, unknown> {
    return Object.fromEntries(this.map);
  }
}

const healthyAt = (gtid: string): LocalState => ({
  healthy: true,
  watermarks: [{ url: 'http://t1/status', gtid: parseGtidState(gtid) }],
});

function setup(state: LocalState = healthyAt('0-1-50')) {
  const clock = new Clock();
  const metrics = new RecordingMetrics();
  const watermark = new FixedWatermark(state);
  const router = new EdgeRouter({
    policy: {
      localRegion: 'eu',
      masterRegion: 'us',
      positionMode: true,
      failSafe: 'pinned',
      hasTailers: true,
    },
    isSafe: compileRouteRules({ safe: ['/**'], deny: ['/account/**'] }),
    keys: ringA,
    cookie: { name: 'rw', windowMs: 20_000, secure: true, domain: undefined },
    watermark: watermark as unknown as LocalWatermark,
    metrics,
    now: clock.now,
  });
  return { clock, metrics, watermark, router };
}

const cookieFor = (writtenAt: number, gtid?: string) =>
  `rw=${signRecentWrite(ringA, { writtenAt, gtid: gtid === undefined ? undefined : parseGtidState(gtid) })}`;
const req = (method: string, url: string, cookie?: string) => ({
  method,
  url,
  headers: cookie === undefined ? {} : { cookie },
});

describe('EdgeRouter.decide', () => {
  it('routes, counts every decision, and asks the tailers only for position pins', async () => {
    const { router, metrics, watermark, clock } = setup();
    const got = [
      await router.decide(req('POST', '/posts')),
      await router.decide(req('GET', '/account/settings')),
      await router.decide(req('GET', '/feed')),
      await router.decide(req('GET', '/feed', cookieFor(T0 - 1_000))),
      await router.decide(req('GET', '/feed', cookieFor(T0 - 1_000, '0-1-57'))),
      await router.decide(req('GET', '/feed', cookieFor(T0 - 1_000, '0-1-50'))),
      await router.decide(req('GET', '/feed', 'rw=1.ka.1.x.forged')),
      await router.decide(req('GET', '/feed', cookieFor(T0 - 20_000, '0-1-57'))),
    ].map((d) => `${d.region} ${d.reason}`);
    expect(got).toEqual([
      'us write',
      'us write',
      'eu local',
      'us pinned-by-time',
      'us pinned-by-position',
      'eu unpinned-by-watermark',
      'eu bad-cookie',
      'eu local',
    ]);
    expect(metrics.decisions).toEqual(got.map((g) => g.replace(' ', '/')));
    expect(metrics.rejected).toEqual(['malformed', 'expired']);
    expect(watermark.asked).toBe(2);
    expect(clock.t).toBe(T0);
  });

  it('fails safe to master for a position pin while the tailers are unhealthy', async () => {
    const { router } = setup({ healthy: false, problem: 'tailer http://t1/status: not ready' });
    const d = await router.decide(req('GET', '/feed', cookieFor(T0 - 1_000, '0-1-57')));
    expect(`${d.region} ${d.reason}`).toBe('us fail-safe');
  });
});

describe('EdgeRouter.finishResponse', () => {
  it('after a 2xx write: signed cookie with the GTID, signals stripped, region and Vary added', async () => {
    const { router, metrics } = setup();
    const d = await router.decide(req('POST', '/posts'));
    const h = new Headers({
      'x-cachetail-gtid': '0-1-57',
      'content-type': 'text/plain',
      vary: 'Accept-Encoding',
    });
    router.finishResponse(d, 201, h);
    expect(h.plain).toEqual({
      'content-type': 'text/plain',
      vary: 'Accept-Encoding, Cookie',
      'x-cachetail-region': 'us',
    });
    expect(h.cookies).toEqual([
      `rw=${signRecentWrite(ringA, { writtenAt: T0, gtid: parseGtidState('0-1-57') })}; Max-Age=20; Path=/; HttpOnly; Secure; SameSite=Lax`,
    ]);
    expect(metrics.cookiesSet).toBe(1);
  });

  it.each([
    ['POST', 200, {}, true],
    ['POST', 303, {}, true],
    ['POST', 404, {}, false],
    ['POST', 500, {}, false],
    ['POST', 200, { 'x-cachetail-write': '0' }, false],
    ['GET', 200, {}, false],
    ['GET', 200, { 'x-cachetail-write': '1' }, true],
    ['GET', 200, { 'x-cachetail-gtid': '0-1-9' }, true],
    ['GET', 200, { 'x-cachetail-gtid': '' }, false],
    ['GET', 500, { 'x-cachetail-write': '1' }, false],
  ])('%s answered %s with %j → cookie set: %s', async (method, status, signals, set) => {
    const { router } = setup();
    const d = await router.decide(req(method, '/x'));
    const h = new Headers(signals);
    router.finishResponse(d, status, h);
    expect(h.cookies.length).toBe(set ? 1 : 0);
    expect(h.map.has('x-cachetail-write') || h.map.has('x-cachetail-gtid')).toBe(false);
  });

  it('a GET the app marks as a write pins without GTID when none is given', async () => {
    const { router } = setup();
    const d = await router.decide(req('GET', '/like?post=1'));
    const h = new Headers({ 'x-cachetail-write': '1' });
    router.finishResponse(d, 200, h);
    expect(h.cookies[0]).toMatch(new RegExp(`^rw=1\\.ka\\.${T0}\\.\\.[A-Za-z0-9_-]{43}; Max-Age=20;`));
  });

  it('merges the GTID of a live earlier pin (writes to two domains), and keeps the newer time', async () => {
    const { router } = setup();
    const d = await router.decide(req('POST', '/x', cookieFor(T0 - 5_000, '1-1-40')));
    const h = new Headers({ 'x-cachetail-gtid': '2-7-3' });
    router.finishResponse(d, 200, h);
    expect(h.cookies[0]).toBe(
      `rw=${signRecentWrite(ringA, { writtenAt: T0, gtid: parseGtidState('1-1-40,2-7-3') })}; Max-Age=20; Path=/; HttpOnly; Secure; SameSite=Lax`,
    );
  });

  it('pins by time only when an earlier live pin had no GTID, or the new GTID does not parse', async () => {
    const { router } = setup();
    const timeOnly = `rw=${signRecentWrite(ringA, { writtenAt: T0, gtid: undefined })}`;
    for (const [cookie, gtid] of [
      [cookieFor(T0 - 5_000), '0-1-57'],
      [undefined, 'not-a-gtid'],
    ] as const) {
      const d = await router.decide(req('POST', '/x', cookie));
      const h = new Headers({ 'x-cachetail-gtid': gtid });
      router.finishResponse(d, 200, h);
      expect(h.cookies[0].split(';')[0]).toBe(timeOnly);
    }
  });

  it('marks every routed response with the region, even without a write', async () => {
    const { router } = setup();
    const d = await router.decide(req('GET', '/feed'));
    const h = new Headers();
    router.finishResponse(d, 200, h);
    expect(h.plain).toEqual({ 'x-cachetail-region': 'eu', vary: 'Cookie' });
    expect(h.cookies).toEqual([]);
  });
});

describe('varyWithCookie', () => {
  it.each([
    [undefined, 'Cookie'],
    ['', 'Cookie'],
    ['Accept-Encoding', 'Accept-Encoding, Cookie'],
    [['Accept', 'Origin'], 'Accept, Origin, Cookie'],
    ['accept-encoding, cookie', undefined],
    ['COOKIE', undefined],
    ['*', undefined],
  ])('%j → %j', (vary, expected) => {
    expect(varyWithCookie(vary)).toBe(expected);
  });
});
