import { Buffer } from 'node:buffer';
import {
  ANNOTATION_KEYWORD,
  keywordEnd,
  parseAnnotation,
  rejection,
  type Annotation,
  type Rejected,
} from './grammar.js';
import { scanSql, type LexOptions, type RegionKind } from './lexer.js';

export interface ExtractResult {
  /** Keys of every annotation, in order of first appearance, de-duplicated. */
  readonly keys: string[];
  readonly annotations: Annotation[];
  /** Everything that did not conform, whether or not keys were still taken from it. */
  readonly rejected: Rejected[];
}

export interface ExtractOptions extends LexOptions {
  /**
   * The session's sql_mode is not known: a MariaDB ROW transaction logs no BEGIN query, so nothing in
   * its group says which mode its Annotate_rows text was lexed in (Rows_query carry none either; MySQL's
   * BEGIN does). The text is then lexed under every combination of NO_BACKSLASH_ESCAPES and ANSI_QUOTES;
   * the combinations that leave something unterminated cannot be the session's (the server executed the
   * text), and a key is taken only when every remaining one reads it as an annotation key — so also the
   * session's real mode: user data is never read as an annotation (`'\'' /* MEMCACHE_DIRTY k *\/'` is one
   * string under NO_BACKSLASH_ESCAPES). A key only some of them read is reported `ambiguous-sql-mode`.
   * The sql_mode fields are then ignored (`mysql` is not).
   */
  readonly sqlModeUnknown?: boolean;
}

const EVERY_MODE: readonly LexOptions[] = [
  {},
  { noBackslashEscapes: true },
  { ansiQuotes: true },
  { noBackslashEscapes: true, ansiQuotes: true },
];

const FEW_KEYS = 16;
const KEYWORD_BYTES = Buffer.from(ANNOTATION_KEYWORD, 'latin1');
const BACKSLASH = 0x5c;
const DQUOTE = 0x22;

/**
 * The modes whose lexing of this text can differ. NO_BACKSLASH_ESCAPES only changes how `\` is read
 * and ANSI_QUOTES only how `"` is; a text without them lexes the same in all four (the common case,
 * so the tailer's hot path usually lexes once).
 */
function modesThatDiffer(sql: string | Uint8Array): readonly LexOptions[] {
  const backslash = typeof sql === 'string' ? sql.includes('\\') : sql.includes(BACKSLASH);
  const dquote = typeof sql === 'string' ? sql.includes('"') : sql.includes(DQUOTE);
  return MODES_THAT_DIFFER[(backslash ? 1 : 0) | (dquote ? 2 : 0)];
}

/** modesThatDiffer's four possible answers, indexed by backslash present (1) | double quote present (2). */
const MODES_THAT_DIFFER: readonly (readonly LexOptions[])[] = [0, 1, 2, 3].map((has) =>
  EVERY_MODE.filter((m) => ((has & 1) !== 0 || !m.noBackslashEscapes) && ((has & 2) !== 0 || !m.ansiQuotes)),
);

/**
 * Finds MEMCACHE_DIRTY annotations in the real comments of a statement text (QUERY, ANNOTATE_ROWS or
 * ROWS_QUERY). Pass the raw bytes when you have them: keys are then decoded from exactly what the
 * writer sent, and offsets are byte offsets.
 */
export function extractAnnotations(sql: string | Uint8Array, opts: ExtractOptions = {}): ExtractResult {
  if (!opts.sqlModeUnknown) return extractWith(sql, opts).result;
  const differ = opts.mysql ? modesThatDiffer(sql).map((m) => ({ ...m, mysql: true })) : modesThatDiffer(sql);
  // One lexing (the common case): nothing to agree with, so its result is the answer as it stands.
  if (differ.length === 1) return extractWith(sql, differ[0]).result;
  const runs = differ.map((mode) => extractWith(sql, mode));
  // The server executed this text, so its mode lexes it with nothing left open: the modes that leave a
  // string, identifier or comment open are not the session's (when none fits, the text is truncated;
  // then all four must agree).
  const fitting = runs.filter((r) => r.complete).map((r) => r.result);
  const modes = fitting.length > 0 ? fitting : runs.map((r) => r.result);
  const base = modes[0];
  // Sets, not Array.includes: a statement may carry thousands of keys (includes made this quadratic).
  const keySets = modes.map((r) => new Set(r.keys));
  const agreed = (k: string) => keySets.every((set) => set.has(k));
  if (modes.every((r) => r.keys.length === base.keys.length) && base.keys.every(agreed)) return base;
  const result: ExtractResult = {
    keys: base.keys.filter(agreed),
    // For ts=: only annotations every mode sees at the same place, with keys they all agree on.
    annotations: base.annotations.filter(
      (a) => a.keys.every(agreed) && modes.every((r) => r.annotations.some((b) => b.start === a.start)),
    ),
    rejected: [...base.rejected],
  };
  const reported = new Set<string>();
  for (const a of modes.flatMap((r) => r.annotations)) {
    for (const k of a.keys) {
      if (agreed(k) || reported.has(k)) continue;
      reported.add(k);
      const detail = 'an annotation under some sql_mode only, and the statement carries none: not taken';
      result.rejected.push({ reason: 'ambiguous-sql-mode', start: a.start, text: k, detail });
    }
  }
  return result;
}

/** One lexing mode's result, and whether it left nothing unterminated. */
function extractWith(
  sql: string | Uint8Array,
  opts: LexOptions,
): { result: ExtractResult; complete: boolean } {
  const result: ExtractResult = { keys: [], annotations: [], rejected: [] };
  let complete = true;
  let text: string;
  if (typeof sql === 'string') {
    if (!sql.includes(ANNOTATION_KEYWORD)) return { result, complete };
    text = sql;
  } else {
    const buf = Buffer.from(sql.buffer, sql.byteOffset, sql.byteLength);
    if (buf.indexOf(KEYWORD_BYTES) < 0) return { result, complete };
    // latin1 maps each byte to one char, so the ASCII-only lexer sees the bytes as they are.
    text = buf.toString('latin1');
  }
  const byteMode = typeof sql !== 'string';
  // A statement usually carries a few keys: looked up in result.keys until there are more than
  // FEW_KEYS, then in a Set (a statement may carry thousands; includes alone would be quadratic).
  let seen: Set<string> | undefined;

  scanSql(text, opts, (kind: RegionKind, start: number, end: number, terminated: boolean) => {
    if (!terminated) {
      complete = false;
      // The server rejects a statement with an unterminated string or comment, so this text is not
      // what it executed (truncated, or lexed with the wrong sql_mode). Whatever looks like an
      // annotation in here may be user data: report, never delete.
      const at = text.indexOf(ANNOTATION_KEYWORD, start);
      if (at >= 0) {
        const detail = `unterminated ${kind}; annotations from here on ignored`;
        result.rejected.push(rejection('unterminated', text, start, end, detail));
      }
      return;
    }
    if (kind === 'line-comment') {
      const bodyFrom = text.charCodeAt(start) === 0x23 ? start + 1 : start + 2;
      if (keywordEnd(text, bodyFrom, end) >= 0) {
        const detail = 'annotations must be block comments; a line comment is ignored';
        result.rejected.push(rejection('line-comment', text, start, end, detail));
      }
      return;
    }
    if (kind !== 'comment') return;
    const bodyFrom = keywordEnd(text, start + 2, end - 2);
    if (bodyFrom < 0) return;
    const annotation = parseAnnotation(text, start, end, bodyFrom, end - 2, byteMode, result.rejected);
    if (annotation === null) return;
    result.annotations.push(annotation);
    for (const key of annotation.keys) {
      if (seen !== undefined) {
        if (!seen.has(key)) {
          seen.add(key);
          result.keys.push(key);
        }
      } else if (!result.keys.includes(key)) {
        result.keys.push(key);
        if (result.keys.length > FEW_KEYS) seen = new Set(result.keys);
      }
    }
  });
  return { result, complete };
}
