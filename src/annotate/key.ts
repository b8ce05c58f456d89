import { AnnotationError } from './errors.js';

/** memcached's limit on a key, in bytes. */
export const MAX_KEY_BYTES = 250;

export type KeyRejectReason = 'bad-escape' | 'empty-key' | 'key-too-long' | 'forbidden-byte' | 'invalid-utf8';

export type DecodedKey = { ok: true; key: string } | { ok: false; reason: KeyRejectReason; detail: string };

// Bytes the writer escapes. The grammar needs only % , * / = (separators, the comment's end) plus
// whitespace, control and non-ASCII bytes; ? ' " ` \ are escaped too because client-side placeholder
// substitution (named-placeholders in mysql2, older sqlstring) scans for ? and tracks quotes without
// knowing about comments. Decoders accept any %XX, so this set may grow without a grammar change.
const MUST_ESCAPE = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  MUST_ESCAPE[b] = b <= 0x20 || b >= 0x7f || '%,*/=?\'"`\\'.includes(String.fromCharCode(b)) ? 1 : 0;
}
const HEX = '0123456789ABCDEF';

// ignoreBOM: a key may legitimately start with U+FEFF; the default decoder would eat it.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/**
 * Why `key` is not a valid memcached key, or null when it is: 1–250 bytes of well-formed UTF-8 with no
 * byte ≤ 0x20 and no 0x7f.
 */
export function validateKey(key: string): KeyRejectReason | null {
  let bytes = 0;
  let forbidden = false;
  let illFormed = false;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x80) {
      bytes += 1;
      if (c <= 0x20 || c === 0x7f) forbidden = true;
    } else if (c < 0x800) {
      bytes += 2;
    } else if (
      c >= 0xd800 &&
      c <= 0xdbff &&
      i + 1 < key.length &&
      (key.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    ) {
      bytes += 4;
      i++;
    } else {
      if (c >= 0xd800 && c <= 0xdfff) illFormed = true;
      bytes += 3;
    }
  }
  return keyBytesReason(bytes, forbidden, illFormed);
}

function keyBytesReason(bytes: number, forbidden: boolean, illFormed: boolean): KeyRejectReason | null {
  if (bytes === 0) return 'empty-key';
  if (bytes > MAX_KEY_BYTES) return 'key-too-long';
  if (forbidden) return 'forbidden-byte';
  if (illFormed) return 'invalid-utf8';
  return null;
}

const REASON_TEXT: Record<KeyRejectReason, string> = {
  'bad-escape': '% must be followed by two hex digits',
  'empty-key': 'the key is empty',
  'key-too-long': `the key is longer than ${MAX_KEY_BYTES} bytes`,
  'forbidden-byte': 'the key contains a space, control byte or 0x7f',
  'invalid-utf8': 'the key is not valid UTF-8',
};

export function describeKeyReason(reason: KeyRejectReason): string {
  return REASON_TEXT[reason];
}

/** The wire form of a key (see docs/annotation-grammar.md). Throws ANNOTATION_INVALID_KEY. */
export function encodeKey(key: string): string {
  const reason = validateKey(key);
  if (reason !== null) {
    throw new AnnotationError(
      'ANNOTATION_INVALID_KEY',
      `invalid cache key ${JSON.stringify(key)}: ${REASON_TEXT[reason]}`,
    );
  }
  let out = '';
  for (const b of encoder.encode(key)) {
    out += MUST_ESCAPE[b] === 1 ? '%' + HEX[b >> 4] + HEX[b & 15] : String.fromCharCode(b);
  }
  return out;
}

/**
 * Percent-decodes `token` into bytes. In byte mode every char of `token` is one byte (the statement was
 * decoded as latin1); otherwise raw chars are taken as their UTF-8 encoding. A lone surrogate becomes
 * its 3-byte generalized-UTF-8 form, which the strict decoder later rejects. Stops early past `limit`.
 */
export function percentDecode(
  token: string,
  byteMode: boolean,
  limit = Infinity,
): { ok: true; bytes: Uint8Array } | { ok: false; at: number } {
  const out: number[] = [];
  for (let i = 0; i < token.length && out.length <= limit; i++) {
    const c = token.charCodeAt(i);
    if (c === 0x25) {
      const hi = hexValue(token.charCodeAt(i + 1));
      const lo = hexValue(token.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return { ok: false, at: i };
      out.push((hi << 4) | lo);
      i += 2;
    } else if (c < 0x80 || byteMode) {
      out.push(c);
    } else {
      const cp = token.codePointAt(i) ?? c;
      if (cp > 0xffff) i++;
      if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 63));
      else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
      else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
    }
  }
  return { ok: true, bytes: Uint8Array.from(out) };
}

/** Strict UTF-8 decode; null when the bytes are not well-formed UTF-8. */
export function utf8OrNull(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

/** Decodes one key as written in an annotation (string mode: raw non-ASCII chars are taken as UTF-8). */
export function decodeKey(encoded: string): DecodedKey {
  return decodeKeyToken(encoded, false);
}

export function decodeKeyToken(token: string, byteMode: boolean): DecodedKey {
  const decoded = percentDecode(token, byteMode, MAX_KEY_BYTES);
  if (!decoded.ok) return { ok: false, reason: 'bad-escape', detail: `bad % escape at index ${decoded.at}` };
  const bytes = decoded.bytes;
  let forbidden = false;
  for (const b of bytes) if (b <= 0x20 || b === 0x7f) forbidden = true;
  const key = bytes.length > MAX_KEY_BYTES ? null : utf8OrNull(bytes);
  const reason = keyBytesReason(bytes.length, forbidden, key === null);
  if (reason !== null || key === null) {
    const r = reason ?? 'invalid-utf8';
    return { ok: false, reason: r, detail: REASON_TEXT[r] };
  }
  return { ok: true, key };
}
