/**
 * How getOrLoad stores a value: UTF-8 JSON in a small envelope,
 *
 *   {"ct":1,"t":"<type tag>","d":<value>}
 *
 * `ct` is this format's version; `t` is the caller's type tag (e.g. 'user-profile@3'), so a value written
 * by another part of the application, or by an older shape of the same one, is recognised as foreign and
 * treated as a miss instead of being handed to code that expects something else. JSON only: parsing a
 * cached value never runs code or builds anything but plain data (a `__proto__` member stays an own
 * property of a plain object). The hold-off tombstone is checked before this, and can never parse.
 */
export const ENVELOPE_VERSION = 1;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The bytes to store, or null when the value cannot be represented exactly (undefined, bigint, cycles). */
export function encodeEnvelope(type: string, value: unknown): string | null {
  if (value === undefined) return null;
  try {
    const body = JSON.stringify(value);
    // JSON.stringify returns undefined for functions and symbols: nothing that would read back equal.
    if (typeof body !== 'string') return null;
    return `{"ct":${ENVELOPE_VERSION},"t":${JSON.stringify(type)},"d":${body}}`;
  } catch {
    return null;
  }
}

export type Decoded =
  { ok: true; value: unknown } | { ok: false; why: 'not-json' | 'not-envelope' | 'other-type' };

export function decodeEnvelope(type: string, bytes: Uint8Array): Decoded {
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(bytes));
  } catch {
    return { ok: false, why: 'not-json' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return { ok: false, why: 'not-envelope' };
  const env = parsed as Record<string, unknown>;
  if (env.ct !== ENVELOPE_VERSION || typeof env.t !== 'string' || !Object.hasOwn(env, 'd')) {
    return { ok: false, why: 'not-envelope' };
  }
  if (env.t !== type) return { ok: false, why: 'other-type' };
  return { ok: true, value: env.d };
}
