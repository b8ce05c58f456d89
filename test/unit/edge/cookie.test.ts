import { createHmac } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseGtidState } from '../../../src/binlog/index.js';
import {
  VerifiedCookies,
  readRecentWrite,
  serializeCookie,
  signRecentWrite,
  verifyRecentWrite,
} from '../../../src/edge/cookie.js';
import { KeyRing } from '../../../src/edge/keys.js';
import { SECRET_A, SECRET_B, T0, ringA, ringB, ringBA } from './fixtures.js';

const WINDOW = 20_000;
const b64 = (s: string): string => Buffer.from(s).toString('base64url');
const macOf = (secret: string, body: string): string =>
  createHmac('sha256', secret).update(`cachetail-rw.${body}`).digest('base64url');

describe('recent-write cookie format v1', () => {
  it('is version.kid.time.base64url(gtid).HMAC-SHA256, exactly', () => {
    const value = signRecentWrite(ringA, { writtenAt: T0, gtid: parseGtidState('0-1-57') });
    const body = `1.ka.${T0}.${b64('0-1-57')}`;
    expect(value).toBe(`${body}.${macOf(SECRET_A, body)}`);
    expect(value).toBe(`1.ka.1767268800000.MC0xLTU3.${macOf(SECRET_A, body)}`);
  });

  it('leaves the GTID field empty when the write has none', () => {
    const value = signRecentWrite(ringA, { writtenAt: T0, gtid: undefined });
    expect(value).toBe(`1.ka.${T0}..${macOf(SECRET_A, `1.ka.${T0}.`)}`);
  });

  it('writes a GTID in normal form (a MySQL set) and reads it back', () => {
    const uuid = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
    const value = signRecentWrite(ringA, { writtenAt: T0, gtid: parseGtidState(`${uuid}:7, ${uuid}:1-5`) });
    expect(value.split('.')[3]).toBe(b64(`${uuid}:1-5:7`));
    const r = verifyRecentWrite(ringA, value, T0 + 1, WINDOW);
    expect(r.kind === 'valid' && r.write.gtid?.toString()).toBe(`${uuid}:1-5:7`);
  });

  it('drops a GTID longer than 512 characters (the cookie then pins by time)', () => {
    const long = Array.from({ length: 50 }, (_, i) => `${i}-1-${1_000_000 + i}`).join(',');
    expect(long.length).toBeGreaterThan(512);
    const value = signRecentWrite(ringA, { writtenAt: T0, gtid: parseGtidState(long) });
    expect(value.split('.')[3]).toBe('');
  });

  it('uses only cookie-octets', () => {
    const value = signRecentWrite(ringA, { writtenAt: T0, gtid: parseGtidState('0-1-57,1-2-3') });
    expect(value).toMatch(/^[A-Za-z0-9._-]+$/);
  });
});

describe('verifyRecentWrite', () => {
  const signed = signRecentWrite(ringA, { writtenAt: T0, gtid: parseGtidState('0-1-57') });

  it('accepts its own cookie inside the window, with time and GTID', () => {
    const r = verifyRecentWrite(ringA, signed, T0 + 19_999, WINDOW);
    expect(r.kind).toBe('valid');
    if (r.kind !== 'valid') return;
    expect(r.write.writtenAt).toBe(T0);
    expect(r.write.gtid?.toString()).toBe('0-1-57');
  });

  it('expires at exactly the window', () => {
    expect(verifyRecentWrite(ringA, signed, T0 + 20_000, WINDOW)).toEqual({
      kind: 'rejected',
      why: 'expired',
    });
  });

  it('tolerates clock skew up to the window into the future, no more', () => {
    expect(verifyRecentWrite(ringA, signed, T0 - 20_000, WINDOW).kind).toBe('valid');
    expect(verifyRecentWrite(ringA, signed, T0 - 20_001, WINDOW)).toEqual({
      kind: 'rejected',
      why: 'future',
    });
  });

  it('rotation: a cookie signed by the old key verifies after a new key was put first', () => {
    expect(verifyRecentWrite(ringBA, signed, T0, WINDOW).kind).toBe('valid');
    const fresh = signRecentWrite(ringBA, { writtenAt: T0, gtid: undefined });
    expect(fresh.split('.')[1]).toBe('kb');
    expect(verifyRecentWrite(ringB, fresh, T0, WINDOW).kind).toBe('valid');
  });

  it('rotation: once the old key is removed its cookies are unknown-key', () => {
    expect(verifyRecentWrite(ringB, signed, T0, WINDOW)).toEqual({ kind: 'rejected', why: 'unknown-key' });
  });

  it('rejects a key id that names another key (same id, different secret)', () => {
    const impostor = KeyRing.parse([`ka:${SECRET_B}`], 'test');
    expect(verifyRecentWrite(impostor, signed, T0, WINDOW)).toEqual({
      kind: 'rejected',
      why: 'bad-signature',
    });
  });

  it.each([
    ['time moved later', (p: string[]) => [p[0], p[1], String(T0 + 60_000), p[3], p[4]]],
    ['GTID raised', (p: string[]) => [p[0], p[1], p[2], b64('0-1-1'), p[4]]],
    ['GTID removed', (p: string[]) => [p[0], p[1], p[2], '', p[4]]],
    ['MAC changed', (p: string[]) => [p[0], p[1], p[2], p[3], (p[4][0] === 'A' ? 'B' : 'A') + p[4].slice(1)]],
    [
      'MAC of another key',
      (p: string[]) => [p[0], p[1], p[2], p[3], macOf(SECRET_B, p.slice(0, 4).join('.'))],
    ],
  ])('rejects a tampered cookie (%s) as bad-signature', (_what, edit) => {
    const forged = edit(signed.split('.')).join('.');
    expect(verifyRecentWrite(ringA, forged, T0 + 1, WINDOW)).toEqual({
      kind: 'rejected',
      why: 'bad-signature',
    });
  });

  it.each([
    ['', 'malformed'],
    ['garbage', 'malformed'],
    ['1.ka.123.', 'malformed'],
    [`${signed}.extra`, 'malformed'],
    [signed.replace(/^1\./, '2.'), 'unsupported-version'],
    [signed.replace(/^1\./, 'v.'), 'malformed'],
    [signed.replace(`.${T0}.`, '.12e3.'), 'malformed'],
    [signed.replace(`.${T0}.`, '.-5.'), 'malformed'],
    [signed.slice(0, -1), 'malformed'],
    [signed.replace('.ka.', '.zz.'), 'unknown-key'],
    [signed.replace('MC0xLTU3', 'MC0x+TU3'), 'malformed'],
  ])('rejects %j as %s', (value, why) => {
    expect(verifyRecentWrite(ringA, value, T0 + 1, WINDOW)).toEqual({ kind: 'rejected', why });
  });

  it('treats a signed but unreadable GTID as time-only (it was ours; pinning by time stays safe)', () => {
    const body = `1.ka.${T0}.${b64('not a gtid')}`;
    const r = verifyRecentWrite(ringA, `${body}.${macOf(SECRET_A, body)}`, T0 + 1, WINDOW);
    expect(r).toEqual({ kind: 'valid', write: { writtenAt: T0, gtid: undefined } });
  });
});

describe('readRecentWrite (Cookie header)', () => {
  const older = signRecentWrite(ringA, { writtenAt: T0, gtid: parseGtidState('0-1-5') });
  const newer = signRecentWrite(ringA, { writtenAt: T0 + 1_000, gtid: parseGtidState('0-1-9') });
  const read = (header: string | undefined) =>
    readRecentWrite(ringA, header, 'cachetail_rw', T0 + 2_000, WINDOW);

  it('is absent without the cookie', () => {
    expect(read(undefined)).toEqual({ kind: 'absent' });
    expect(read('')).toEqual({ kind: 'absent' });
    expect(read('session=abc; other_rw=1')).toEqual({ kind: 'absent' });
  });

  it('finds the named cookie among others, quoted or not', () => {
    const r = read(`session=abc; cachetail_rw=${older}; theme=dark`);
    expect(r.kind === 'valid' && r.write.writtenAt).toBe(T0);
    const q = read(`cachetail_rw="${older}"`);
    expect(q.kind === 'valid' && q.write.writtenAt).toBe(T0);
  });

  it('with several cookies of the name, the newest valid one wins, whatever the order', () => {
    for (const header of [
      `cachetail_rw=${older}; cachetail_rw=${newer}`,
      `cachetail_rw=${newer}; cachetail_rw=garbage; cachetail_rw=${older}`,
    ]) {
      const r = read(header);
      expect(r.kind === 'valid' && r.write.gtid?.toString()).toBe('0-1-9');
    }
  });

  it('reports a forgery before an expiry when nothing is valid', () => {
    const expired = signRecentWrite(ringA, { writtenAt: T0 - 60_000, gtid: undefined });
    expect(read(`cachetail_rw=${expired}; cachetail_rw=forged`)).toEqual({
      kind: 'rejected',
      why: 'malformed',
    });
    expect(read(`cachetail_rw=forged; cachetail_rw=${expired}`)).toEqual({
      kind: 'rejected',
      why: 'malformed',
    });
    expect(read(`cachetail_rw=${expired}`)).toEqual({ kind: 'rejected', why: 'expired' });
  });
});

describe('VerifiedCookies', () => {
  const signed = signRecentWrite(ringA, { writtenAt: T0, gtid: parseGtidState('0-1-57') });

  it('answers like verifyRecentWrite, keeping only verified values', () => {
    const cache = new VerifiedCookies();
    expect(cache.read(ringA, 'forged', T0, 20_000)).toEqual({ kind: 'rejected', why: 'malformed' });
    expect(cache.read(ringA, signed.slice(0, -2) + 'AA', T0, 20_000)).toEqual({
      kind: 'rejected',
      why: 'bad-signature',
    });
    expect(cache.size).toBe(0);
    const first = cache.read(ringA, signed, T0 + 1, 20_000);
    const second = cache.read(ringA, signed, T0 + 2, 20_000);
    expect(cache.size).toBe(1);
    expect(first.kind === 'valid' && second.kind === 'valid' && second.write).toBe(
      first.kind === 'valid' && first.write,
    );
  });

  it('re-checks the window on every read and drops an expired value', () => {
    const cache = new VerifiedCookies();
    expect(cache.read(ringA, signed, T0, 20_000).kind).toBe('valid');
    expect(cache.read(ringA, signed, T0 - 20_001, 20_000)).toEqual({ kind: 'rejected', why: 'future' });
    expect(cache.read(ringA, signed, T0 + 20_000, 20_000)).toEqual({ kind: 'rejected', why: 'expired' });
    expect(cache.size).toBe(0);
  });

  it('holds at most max values, dropping the oldest', () => {
    const cache = new VerifiedCookies(2);
    const values = [1, 2, 3].map((i) => signRecentWrite(ringA, { writtenAt: T0 + i, gtid: undefined }));
    for (const v of values) cache.read(ringA, v, T0 + 10, 20_000);
    expect(cache.size).toBe(2);
    expect(values.map((v) => cache.read(ringA, v, T0 + 10, 20_000).kind)).toEqual([
      'valid',
      'valid',
      'valid',
    ]);
  });
});

describe('serializeCookie', () => {
  it('sets HttpOnly, Secure, SameSite=Lax, Path=/ and Max-Age = the window', () => {
    expect(
      serializeCookie({ name: 'cachetail_rw', windowMs: 20_000, secure: true, domain: undefined }, 'V'),
    ).toBe('cachetail_rw=V; Max-Age=20; Path=/; HttpOnly; Secure; SameSite=Lax');
  });

  it('rounds Max-Age up, adds Domain when configured, drops Secure only when told', () => {
    expect(serializeCookie({ name: 'rw', windowMs: 1_500, secure: false, domain: 'example.com' }, 'V')).toBe(
      'rw=V; Max-Age=2; Domain=example.com; Path=/; HttpOnly; SameSite=Lax',
    );
  });
});

describe('KeyRing', () => {
  it('signs with the first key and verifies with any', () => {
    expect(ringBA.signing.id).toBe('kb');
    expect(ringBA.ids).toEqual(['kb', 'ka']);
    expect(ringBA.find('ka')?.secret.toString()).toBe(SECRET_A);
  });

  it('splits at the first colon only', () => {
    const ring = KeyRing.parse([`k1:${'x'.repeat(30)}:yz`], 'test');
    expect(ring.find('k1')?.secret.toString()).toBe(`${'x'.repeat(30)}:yz`);
  });

  it('refuses short secrets, bad ids, duplicate ids and no key at all, without quoting secrets', () => {
    const shortSecret = 'short-secret-123';
    let message = '';
    try {
      KeyRing.parse(
        [`k1:${shortSecret}`, 'no colon here', `bad id:${SECRET_A}`, `k2:${SECRET_A}`, `k2:${SECRET_B}`],
        'env',
      );
    } catch (err) {
      message = (err as Error).message;
      expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
    }
    expect(message).toBe(
      [
        'cookie keys from env:',
        '  key "k1": secret shorter than 32 bytes',
        '  entry 2: expected id:secret with an id of [A-Za-z0-9_-]{1,32}',
        '  entry 3: expected id:secret with an id of [A-Za-z0-9_-]{1,32}',
        '  key "k2": id used twice',
      ].join('\n'),
    );
    expect(message).not.toContain(shortSecret);
    expect(message).not.toContain(SECRET_A);
    expect(() => KeyRing.parse([], 'env')).toThrow(
      'cookie keys from env:\n  no key configured (at least one is required)',
    );
  });

  it('never prints its secrets', () => {
    const shown = [String(ringBA), JSON.stringify(ringBA), inspect(ringBA), inspect({ keys: ringBA })].join(
      ' ',
    );
    expect(shown).toContain('kb');
    expect(shown).not.toContain(SECRET_A.slice(0, 40));
    expect(shown).not.toContain(SECRET_B.slice(0, 40));
  });
});
