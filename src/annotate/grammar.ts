import { decodeKeyToken, MAX_KEY_BYTES, percentDecode, utf8OrNull, type KeyRejectReason } from './key.js';
import { isSqlSpace } from './lexer.js';

/*
 * Annotation grammar v1 (the decoder for the inside of one block comment):
 *
 *   annotation := "/*" SP "MEMCACHE_DIRTY" SP keylist *(SP field) [SP] "*" "/"
 *   keylist    := key *("," key)      ; key = percent-encoded memcached key
 *   field      := name "=" value      ; name = [a-z][a-z0-9_]*, value = percent-encoded token
 *   SP         := one or more of space, \t, \n, \r, \v, \f
 *
 * Encoding rules, known fields and what happens to malformed input: docs/annotation-grammar.md.
 */

export const ANNOTATION_KEYWORD = 'MEMCACHE_DIRTY';
/** The highest grammar version whose fields this code understands. */
export const GRAMMAR_VERSION = 1;

export type RejectReason =
  | KeyRejectReason
  | 'missing-keylist'
  | 'keylist-whitespace'
  | 'malformed-field'
  | 'bad-field-value'
  | 'duplicate-field'
  | 'unknown-field'
  | 'unsupported-version'
  | 'unterminated'
  | 'line-comment'
  | 'ambiguous-sql-mode';

export interface Annotation {
  /** Offset of the comment's opening slash (UTF-16 index for string input, byte offset for bytes). */
  readonly start: number;
  /** Offset just past the comment's closing slash. */
  readonly end: number;
  /** The declared `v` (1 when absent); null when `v` was unreadable. Fields are read only for v1. */
  readonly version: number | null;
  /** Valid keys in the order written (not de-duplicated). */
  readonly keys: string[];
  /** The writer's commit-time timestamp, unix epoch milliseconds. */
  readonly ts?: number;
}

export interface Rejected {
  readonly reason: RejectReason;
  /** Offset of the offending text. */
  readonly start: number;
  /** The offending text as written, cut at 200 characters. */
  readonly text: string;
  readonly detail: string;
}

const MAX_TEXT = 200;

export function rejection(
  reason: RejectReason,
  text: string,
  start: number,
  end: number,
  detail: string,
): Rejected {
  return { reason, start, text: text.slice(start, Math.min(end, start + MAX_TEXT)), detail };
}

/** Offset just past the keyword when it is the first token of the body [from, to), else -1. */
export function keywordEnd(text: string, from: number, to: number): number {
  let p = from;
  while (p < to && isSqlSpace(text.charCodeAt(p))) p++;
  const q = p + ANNOTATION_KEYWORD.length;
  if (q > to || !text.startsWith(ANNOTATION_KEYWORD, p)) return -1;
  return q === to || isSqlSpace(text.charCodeAt(q)) ? q : -1;
}

interface Token {
  readonly start: number;
  readonly end: number;
}

function tokenize(text: string, from: number, to: number): Token[] {
  const tokens: Token[] = [];
  let p = from;
  while (p < to) {
    while (p < to && isSqlSpace(text.charCodeAt(p))) p++;
    const start = p;
    while (p < to && !isSqlSpace(text.charCodeAt(p))) p++;
    if (p > start) tokens.push({ start, end: p });
  }
  return tokens;
}

const COMMA = 0x2c;
const PERCENT = 0x25;
/**
 * A slice of a string can keep the whole string alive (V8 sliced strings), and keys wait in the
 * tailer's queue (up to batch.maxPendingKeys): from longer statements (bulk inserts can be megabytes)
 * keys are decoded into fresh strings, so a pending key never pins its statement's text.
 */
const SLICE_KEYS_UP_TO = 1024;

/**
 * Parses the body of a comment already known to start with the keyword. `bodyFrom` is just past the
 * keyword, `bodyTo` at the closing star-slash. Problems go to `rejected`; valid keys are always kept.
 */
export function parseAnnotation(
  text: string,
  start: number,
  end: number,
  bodyFrom: number,
  bodyTo: number,
  byteMode: boolean,
  rejected: Rejected[],
): Annotation | null {
  const tokens = tokenize(text, bodyFrom, bodyTo);
  const first = tokens[0];
  if (first === undefined) {
    rejected.push(rejection('missing-keylist', text, start, end, 'MEMCACHE_DIRTY is not followed by keys'));
    return null;
  }
  // Keys always come first, so the first token is the keylist whatever it looks like. A comma next to
  // whitespace ("a, b") unambiguously continues the list: take those keys too, and say so.
  let n = 1;
  for (let t = tokens[n]; t !== undefined; t = tokens[++n]) {
    const prev = tokens[n - 1];
    if (text.charCodeAt(prev.end - 1) !== COMMA && text.charCodeAt(t.start) !== COMMA) break;
  }
  if (n > 1) {
    const last = tokens[n - 1];
    rejected.push(
      rejection(
        'keylist-whitespace',
        text,
        first.start,
        last.end,
        'whitespace inside the key list; keys taken',
      ),
    );
  }
  const keys: string[] = [];
  for (let t = 0; t < n; t++) decodeKeys(text, tokens[t], t > 0, t < n - 1, byteMode, keys, rejected);

  // No fields (the common case): version 1 by default, and nothing else to read.
  if (n === tokens.length) return { start, end, version: 1, keys };
  const fields = readFields(text, tokens.slice(n), byteMode, rejected);
  const annotation: { -readonly [K in keyof Annotation]: Annotation[K] } = { start, end, version: 1, keys };
  const v = fields.get('v');
  if (v !== undefined) {
    annotation.version = /^[0-9]{1,9}$/.test(v.value) && Number(v.value) >= 1 ? Number(v.value) : null;
    if (annotation.version === null) {
      rejected.push(rejection('bad-field-value', text, v.at.start, v.at.end, 'v must be an integer >= 1'));
    }
  }
  if (annotation.version !== GRAMMAR_VERSION) {
    if (annotation.version !== null) {
      const at = (v as Field).at;
      const detail = `version ${annotation.version} is newer than ${GRAMMAR_VERSION}; keys taken, fields ignored`;
      rejected.push(rejection('unsupported-version', text, at.start, at.end, detail));
    }
    return annotation;
  }
  for (const [name, field] of fields) {
    if (name === 'v') continue;
    if (name !== 'ts') {
      rejected.push(
        rejection('unknown-field', text, field.at.start, field.at.end, `unknown field ${name} ignored`),
      );
    } else if (/^[0-9]{1,16}$/.test(field.value) && Number.isSafeInteger(Number(field.value))) {
      annotation.ts = Number(field.value);
    } else {
      const detail = 'ts must be unix epoch milliseconds';
      rejected.push(rejection('bad-field-value', text, field.at.start, field.at.end, detail));
    }
  }
  return annotation;
}

function decodeKeys(
  text: string,
  token: Token,
  continuesPrevious: boolean,
  continuedByNext: boolean,
  byteMode: boolean,
  keys: string[],
  rejected: Rejected[],
): void {
  let from = token.start;
  while (from <= token.end) {
    // Bounded by the token: an indexOf over the rest of the text would make many comments quadratic.
    let to = from;
    // Whether every char is printable ASCII other than % (0x21–0x7e): such a key decodes to itself.
    let plain = true;
    while (to < token.end) {
      const c = text.charCodeAt(to);
      if (c === COMMA) break;
      if (c <= 0x20 || c >= 0x7f || c === PERCENT) plain = false;
      to++;
    }
    // The empty piece on the comma side of "a, b" is the continuation, not an empty key.
    const joint = (from === token.start && continuesPrevious) || (to === token.end && continuedByNext);
    if (plain && to > from && to - from <= MAX_KEY_BYTES && text.length <= SLICE_KEYS_UP_TO) {
      // What decodeKeyToken returns for it, without the byte array and the UTF-8 decoder (the hot path:
      // writers escape only what they must, so almost every key is plain).
      keys.push(text.slice(from, to));
    } else if (!(to === from && joint)) {
      const decoded = decodeKeyToken(text.slice(from, to), byteMode);
      if (decoded.ok) keys.push(decoded.key);
      else rejected.push(rejection(decoded.reason, text, from, to, decoded.detail));
    }
    from = to + 1;
  }
}

interface Field {
  readonly value: string;
  readonly at: Token;
}

function readFields(
  text: string,
  tokens: Token[],
  byteMode: boolean,
  rejected: Rejected[],
): Map<string, Field> {
  const fields = new Map<string, Field>();
  for (const at of tokens) {
    const eq = fieldNameEnd(text, at);
    if (eq < 0) {
      rejected.push(rejection('malformed-field', text, at.start, at.end, 'expected name=value; ignored'));
      continue;
    }
    const name = text.slice(at.start, eq);
    const decoded = percentDecode(text.slice(eq + 1, at.end), byteMode);
    const value = decoded.ok ? utf8OrNull(decoded.bytes) : null;
    if (value === null) {
      rejected.push(rejection('bad-field-value', text, at.start, at.end, `${name}: bad percent-encoding`));
    } else if (fields.has(name)) {
      rejected.push(
        rejection('duplicate-field', text, at.start, at.end, `${name} repeated; the first one wins`),
      );
    } else {
      fields.set(name, { value, at });
    }
  }
  return fields;
}

/** Offset of the "=" after a valid field name at the start of the token, else -1. */
function fieldNameEnd(text: string, at: Token): number {
  const first = text.charCodeAt(at.start);
  if (!(first >= 0x61 && first <= 0x7a)) return -1;
  for (let p = at.start + 1; p < at.end; p++) {
    const c = text.charCodeAt(p);
    if (c === 0x3d) return p;
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x5f)) return -1;
  }
  return -1;
}
