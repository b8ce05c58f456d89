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

export type ExtractOptions = LexOptions;

const KEYWORD_BYTES = Buffer.from(ANNOTATION_KEYWORD, 'latin1');

/**
 * Finds MEMCACHE_DIRTY annotations in the real comments of a statement text (QUERY, ANNOTATE_ROWS or
 * ROWS_QUERY). Pass the raw bytes when you have them: keys are then decoded from exactly what the
 * writer sent, and offsets are byte offsets.
 */
export function extractAnnotations(sql: string | Uint8Array, opts: ExtractOptions = {}): ExtractResult {
  const result: ExtractResult = { keys: [], annotations: [], rejected: [] };
  let text: string;
  if (typeof sql === 'string') {
    if (!sql.includes(ANNOTATION_KEYWORD)) return result;
    text = sql;
  } else {
    const buf = Buffer.from(sql.buffer, sql.byteOffset, sql.byteLength);
    if (buf.indexOf(KEYWORD_BYTES) < 0) return result;
    // latin1 maps each byte to one char, so the ASCII-only lexer sees the bytes as they are.
    text = buf.toString('latin1');
  }
  const byteMode = typeof sql !== 'string';
  const seen = new Set<string>();

  scanSql(text, opts, (kind: RegionKind, start: number, end: number, terminated: boolean) => {
    if (!terminated) {
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
      if (!seen.has(key)) {
        seen.add(key);
        result.keys.push(key);
      }
    }
  });
  return result;
}
