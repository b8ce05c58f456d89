import { describe, expect, it } from 'vitest';
import { parseGtidState } from '../../../src/binlog/index.js';
import type { CookieReading } from '../../../src/edge/cookie.js';
import { decide, needsLocalState, classify, type PolicyConfig } from '../../../src/edge/policy.js';
import type { LocalState } from '../../../src/edge/types.js';
import { T0 } from './fixtures.js';

const cfg: PolicyConfig = {
  localRegion: 'eu',
  masterRegion: 'us',
  positionMode: true,
  failSafe: 'pinned',
  hasTailers: true,
};
const none: CookieReading = { kind: 'absent' };
const timeOnly: CookieReading = { kind: 'valid', write: { writtenAt: T0, gtid: undefined } };
const at57: CookieReading = { kind: 'valid', write: { writtenAt: T0, gtid: parseGtidState('0-1-57') } };
const forged: CookieReading = { kind: 'rejected', why: 'bad-signature' };
const expired: CookieReading = { kind: 'rejected', why: 'expired' };
const healthy = (gtid: string): LocalState => ({
  healthy: true,
  watermarks: [{ url: 'http://t1/status', gtid: parseGtidState(gtid) }],
});
const at56 = healthy('0-1-56');
const at57wm = healthy('0-2-57');
const down: LocalState = { healthy: false, problem: 'tailer http://t1/status: unreachable (ECONNREFUSED)' };

const row = (safe: boolean, cookie: CookieReading, state: LocalState | undefined, c: PolicyConfig = cfg) => {
  const d = decide({ safe, cookie }, c, state);
  return `${d.region} ${d.reason}`;
};

describe('routing policy (replica region eu, master us)', () => {
  it.each([
    // unsafe → master, whatever else is true
    ['unsafe, no cookie', false, none, at56, cfg, 'us write'],
    ['unsafe, tailers down', false, none, down, { ...cfg, failSafe: 'all' as const }, 'us write'],
    ['unsafe, forged cookie', false, forged, at56, cfg, 'us write'],
    // safe reads
    ['no cookie', true, none, undefined, cfg, 'eu local'],
    ['expired cookie', true, expired, undefined, cfg, 'eu local'],
    ['forged cookie', true, forged, undefined, cfg, 'eu bad-cookie'],
    ['live cookie without GTID', true, timeOnly, undefined, cfg, 'us pinned-by-time'],
    ['live cookie, watermark behind', true, at57, at56, cfg, 'us pinned-by-position'],
    [
      'live cookie, watermark reached (any server id in the domain)',
      true,
      at57,
      at57wm,
      cfg,
      'eu unpinned-by-watermark',
    ],
    ['live cookie, tailers unhealthy', true, at57, down, cfg, 'us fail-safe'],
    [
      'live cookie, position mode off',
      true,
      at57,
      undefined,
      { ...cfg, positionMode: false },
      'us pinned-by-time',
    ],
    [
      'live cookie, no tailers configured',
      true,
      at57,
      undefined,
      { ...cfg, hasTailers: false },
      'us pinned-by-time',
    ],
    // failSafe = all: an unhealthy region sends every safe request to master
    ['all: no cookie, tailers down', true, none, down, { ...cfg, failSafe: 'all' as const }, 'us fail-safe'],
    [
      'all: forged cookie, tailers down',
      true,
      forged,
      down,
      { ...cfg, failSafe: 'all' as const },
      'us fail-safe',
    ],
    [
      'all: time pin, tailers down',
      true,
      timeOnly,
      down,
      { ...cfg, failSafe: 'all' as const },
      'us fail-safe',
    ],
    ['all: no cookie, healthy', true, none, at56, { ...cfg, failSafe: 'all' as const }, 'eu local'],
    ['pinned: no cookie, tailers down', true, none, down, cfg, 'eu local'],
    ['pinned: time pin, tailers down', true, timeOnly, down, cfg, 'us pinned-by-time'],
  ])('%s → %s', (_name, safe, cookie, state, c, expected) => {
    expect(row(safe, cookie, state, c)).toBe(expected);
  });

  it('in the master region everything stays there', () => {
    const master: PolicyConfig = { ...cfg, localRegion: 'us' };
    expect([
      row(false, none, undefined, master),
      row(true, at57, undefined, master),
      row(true, forged, undefined, master),
      row(true, none, down, { ...master, failSafe: 'all' }),
    ]).toEqual(['us write', 'us local', 'us bad-cookie', 'us local']);
  });

  it('carries the live pin on the decision (a write merges it into its new cookie)', () => {
    expect(decide({ safe: false, cookie: at57 }, cfg, undefined).pin?.gtid?.toString()).toBe('0-1-57');
    expect(decide({ safe: true, cookie: forged }, cfg, undefined).pin).toBeUndefined();
  });
});

describe('needsLocalState: only requests whose answer depends on the tailers wait for them', () => {
  it.each([
    ['write', false, at57, cfg, false],
    ['no cookie', true, none, cfg, false],
    ['time pin', true, timeOnly, cfg, false],
    ['position pin', true, at57, cfg, true],
    ['position pin, position mode off', true, at57, { ...cfg, positionMode: false }, false],
    ['position pin, no tailers', true, at57, { ...cfg, hasTailers: false }, false],
    ['no cookie, failSafe all', true, none, { ...cfg, failSafe: 'all' as const }, true],
    [
      'no cookie, failSafe all, no tailers',
      true,
      none,
      { ...cfg, failSafe: 'all' as const, hasTailers: false },
      false,
    ],
    ['position pin in the master region', true, at57, { ...cfg, localRegion: 'us' }, false],
  ])('%s → %s', (_name, safe, cookie, c, expected) => {
    expect(needsLocalState(classify({ safe, cookie }), c)).toBe(expected);
  });
});
