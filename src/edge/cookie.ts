/**
 * The recent-write cookie: "this browser wrote at time t (at GTID g)". Wire format, version 1:
 *
 *   value := '1' '.' kid '.' t '.' g '.' mac
 *   kid   := [A-Za-z0-9_-]{1,32}      id of the key that signed it (see keys.ts)
 *   t     := decimal ms since the epoch of the write, as the signing edge's clock saw it
 *   g     := base64url(no padding) of the write's GTID in normal form, or empty when unknown
 *   mac   := base64url(HMAC-SHA256(secret of kid, 'cachetail-rw.' '1' '.' kid '.' t '.' g))   (43 chars)
 *
 * Every character is a cookie-octet (RFC 6265), so the value needs no quoting. A reader that does not
 * know the version, the key, or whose MAC differs (compared in constant time) ignores the cookie; the
 * caller counts why. A cookie is live while now - t < window; t later than now + window cannot come from
 * a sane clock and is rejected like a forgery (clock skew smaller than that only pins longer, the safe
 * direction).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { parseGtidState } from '../binlog/index.js';
import type { KeyRing } from './keys.js';
import type { RecentWrite } from './types.js';

export const COOKIE_VERSION = '1';
const MAC_PREFIX = 'cachetail-rw.';
/** A longer GTID (a MySQL set with many UUIDs) is left out: the cookie then pins by time only. */
export const MAX_COOKIE_GTID_LENGTH = 512;

export type CookieRejection =
  'malformed' | 'unsupported-version' | 'unknown-key' | 'bad-signature' | 'expired' | 'future';

export type CookieReading =
  | { readonly kind: 'absent' }
  | { readonly kind: 'valid'; readonly write: RecentWrite }
  | { readonly kind: 'rejected'; readonly why: CookieRejection };

const ABSENT: CookieReading = Object.freeze({ kind: 'absent' });
const TOKEN_RE = /^[A-Za-z0-9_-]*$/;
const TIME_RE = /^\d{1,15}$/;

export function signRecentWrite(keys: KeyRing, write: RecentWrite): string {
  const key = keys.signing;
  const gtidText = write.gtid === undefined || write.gtid.isEmpty ? '' : write.gtid.toString();
  const g =
    gtidText.length > MAX_COOKIE_GTID_LENGTH ? '' : Buffer.from(gtidText, 'utf8').toString('base64url');
  const body = `${COOKIE_VERSION}.${key.id}.${Math.floor(write.writtenAt)}.${g}`;
  return `${body}.${mac(key.secret, body).toString('base64url')}`;
}

/** Reads one cookie value. Never throws: whatever the client sent, the answer is valid or why not. */
export function verifyRecentWrite(
  keys: KeyRing,
  value: string,
  now: number,
  windowMs: number,
): CookieReading {
  const parts = value.split('.');
  if (parts.length !== 5) return rejected('malformed');
  const [version, kid, t, g, sig] = parts as [string, string, string, string, string];
  if (version !== COOKIE_VERSION)
    return rejected(/^\d+$/.test(version) ? 'unsupported-version' : 'malformed');
  if (!TIME_RE.test(t) || !TOKEN_RE.test(g) || !/^[A-Za-z0-9_-]{43}$/.test(sig)) return rejected('malformed');
  const key = keys.find(kid);
  if (key === undefined) return rejected('unknown-key');
  const expected = mac(key.secret, `${version}.${kid}.${t}.${g}`);
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return rejected('bad-signature');
  const writtenAt = Number(t);
  if (writtenAt > now + windowMs) return rejected('future');
  if (now - writtenAt >= windowMs) return rejected('expired');
  let gtid: RecentWrite['gtid'];
  if (g !== '') {
    try {
      gtid = parseGtidState(Buffer.from(g, 'base64url').toString('utf8'));
    } catch {
      // Signed by us but unreadable (a GTID syntax this version does not know): pin by time only.
      gtid = undefined;
    }
  }
  return { kind: 'valid', write: { writtenAt, gtid } };
}

/**
 * Reads the named cookie from a Cookie header. Several cookies of that name (set for different paths or
 * domains) are all read: the newest valid one wins; with none valid, a forgery-like rejection is
 * reported before an expiry, so forged cookies are counted as such.
 */
export function readRecentWrite(
  keys: KeyRing,
  header: string | undefined,
  name: string,
  now: number,
  windowMs: number,
  cache?: VerifiedCookies,
): CookieReading {
  if (header === undefined || header === '') return ABSENT;
  let best: CookieReading = ABSENT;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim() !== name) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    best = better(
      best,
      cache ? cache.read(keys, value, now, windowMs) : verifyRecentWrite(keys, value, now, windowMs),
    );
  }
  return best;
}

/**
 * Cookie values that verified, so a user's next requests within the window skip the HMAC and the GTID
 * parse (a map lookup instead of microseconds). Only verified values are stored, so a client cannot fill
 * it with forgeries; the time checks are redone on every read. Oldest entries go first when full. One
 * cache per key ring: a value verified under one set of keys says nothing under another.
 */
export class VerifiedCookies {
  private readonly writes = new Map<string, RecentWrite>();

  constructor(private readonly max = 10_000) {}

  read(keys: KeyRing, value: string, now: number, windowMs: number): CookieReading {
    const write = this.writes.get(value);
    if (write === undefined) {
      const reading = verifyRecentWrite(keys, value, now, windowMs);
      if (reading.kind === 'valid') {
        if (this.writes.size >= this.max) this.writes.delete(this.writes.keys().next().value!);
        this.writes.set(value, reading.write);
      }
      return reading;
    }
    if (write.writtenAt > now + windowMs) return rejected('future');
    if (now - write.writtenAt >= windowMs) {
      this.writes.delete(value);
      return rejected('expired');
    }
    return { kind: 'valid', write };
  }

  get size(): number {
    return this.writes.size;
  }
}

function better(a: CookieReading, b: CookieReading): CookieReading {
  if (a.kind === 'valid' || b.kind === 'valid') {
    if (a.kind !== 'valid') return b;
    if (b.kind !== 'valid') return a;
    return b.write.writtenAt > a.write.writtenAt ? b : a;
  }
  if (a.kind === 'absent') return b;
  if (b.kind === 'absent') return a;
  return a.why === 'expired' ? b : a;
}

export interface CookieAttributes {
  readonly name: string;
  readonly windowMs: number;
  readonly secure: boolean;
  readonly domain: string | undefined;
}

/** The Set-Cookie header value. Max-Age is the window, so the browser drops the cookie when it stops pinning. */
export function serializeCookie(attrs: CookieAttributes, value: string): string {
  const parts = [`${attrs.name}=${value}`, `Max-Age=${Math.ceil(attrs.windowMs / 1000)}`];
  if (attrs.domain !== undefined) parts.push(`Domain=${attrs.domain}`);
  parts.push('Path=/', 'HttpOnly');
  if (attrs.secure) parts.push('Secure');
  parts.push('SameSite=Lax');
  return parts.join('; ');
}

function mac(secret: Buffer, body: string): Buffer {
  return createHmac('sha256', secret).update(MAC_PREFIX).update(body).digest();
}

function rejected(why: CookieRejection): CookieReading {
  return { kind: 'rejected', why };
}
