import { AnnotationError } from './errors.js';
import { ANNOTATION_KEYWORD } from './grammar.js';
import { encodeKey } from './key.js';
import { isSqlSpace, scanSql, type LexOptions } from './lexer.js';

export interface AnnotationFields {
  /** The writer's commit-time timestamp, unix epoch milliseconds. */
  readonly ts?: number;
}

/** `/* MEMCACHE_DIRTY k1,k2 ts=… *\/`. Throws on an invalid key or field: never drops one silently. */
export function formatAnnotation(keys: readonly string[], fields: AnnotationFields = {}): string {
  if (keys.length === 0) {
    throw new AnnotationError('ANNOTATION_NO_KEYS', 'an annotation needs at least one key');
  }
  let out = `/* ${ANNOTATION_KEYWORD} ${keys.map(encodeKey).join(',')}`;
  if (fields.ts !== undefined) {
    if (!Number.isSafeInteger(fields.ts) || fields.ts < 0) {
      throw new AnnotationError(
        'ANNOTATION_INVALID_FIELD',
        `ts must be epoch milliseconds, got ${fields.ts}`,
      );
    }
    out += ` ts=${fields.ts}`;
  }
  return out + ' */';
}

const SEMICOLON = 0x3b;

/**
 * Where the annotation goes: just after the statement's last code token, so before a trailing ";" (in a
 * multi-statement packet the server logs each statement without what follows its ";") and before a
 * trailing line comment (which would swallow it). Throws when the text cannot carry it safely.
 */
function insertionPoint(sql: string, opts: LexOptions): number {
  let lastCodeEnd = -1;
  let semicolonAfterCode = false;
  let unterminated = false;
  const code = (from: number, to: number): void => {
    for (let p = from; p < to; p++) {
      const c = sql.charCodeAt(p);
      if (isSqlSpace(c)) continue;
      if (c === SEMICOLON) {
        if (lastCodeEnd >= 0) semicolonAfterCode = true;
        continue;
      }
      if (semicolonAfterCode) {
        throw new AnnotationError(
          'ANNOTATION_MULTI_STATEMENT',
          'the server logs each statement of a multi-statement text separately; annotate each one',
        );
      }
      lastCodeEnd = p + 1;
    }
  };
  let pos = 0;
  scanSql(sql, opts, (kind, start, end, terminated) => {
    code(pos, start);
    pos = end;
    if (!terminated) unterminated = true;
    else if (kind === 'string' || kind === 'identifier' || kind === 'executable') code(end - 1, end);
  });
  if (unterminated) {
    throw new AnnotationError('ANNOTATION_UNTERMINATED', 'the statement ends inside a string or comment');
  }
  code(pos, sql.length);
  if (lastCodeEnd < 0) throw new AnnotationError('ANNOTATION_EMPTY_STATEMENT', 'no SQL to annotate');
  return lastCodeEnd;
}

/**
 * Adds ` /* MEMCACHE_DIRTY … *\/` to one statement. The text outside the inserted comment is unchanged.
 * Pass the session's sql_mode flags in `opts` if it uses NO_BACKSLASH_ESCAPES or ANSI_QUOTES.
 */
export function annotate(
  sql: string,
  keys: readonly string[],
  fields: AnnotationFields = {},
  opts: LexOptions = {},
): string {
  const comment = formatAnnotation(keys, fields);
  const at = insertionPoint(sql, opts);
  return `${sql.slice(0, at)} ${comment}${sql.slice(at)}`;
}
