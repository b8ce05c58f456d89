/**
 * The statements that put a transaction's keys into the binlog, built as text (pure; unit-tested).
 *
 * No placeholders anywhere: the text goes to `query(sql, [])`, so mysql2's `namedPlaceholders` (which
 * would read `:42` in `user:42` as a parameter, even inside a comment) and `?` substitution never touch
 * it. Keys are percent-encoded in annotations and hex literals in outbox rows: no key can end the comment
 * or a string, whatever its bytes.
 */
import { encodeKey, formatAnnotation, validateKey } from '../annotate/index.js';
import { AnnotationError } from '../annotate/index.js';
import type { TableName } from './schema.js';

/** Annotation bytes per carrier statement; more keys go into further statements (each is logged). */
export const MAX_ANNOTATION_CHARS = 32_768;
/** Rows per outbox INSERT. */
export const MAX_OUTBOX_ROWS = 500;

/** Throws AnnotationError ANNOTATION_INVALID_KEY for a key memcached cannot hold (checked at `dirty`). */
export function checkKey(key: unknown): string {
  if (typeof key !== 'string') {
    throw new AnnotationError('ANNOTATION_INVALID_KEY', `a cache key must be a string, got ${typeof key}`);
  }
  if (validateKey(key) !== null) encodeKey(key); // throws with the reason
  return key;
}

/** Splits keys into groups whose encoded annotation stays under `maxChars`. */
function chunkByEncodedLength(keys: readonly string[], maxChars: number): string[][] {
  const out: string[][] = [];
  let group: string[] = [];
  let length = 0;
  for (const k of keys) {
    const n = encodeKey(k).length + 1;
    if (group.length > 0 && length + n > maxChars) {
      out.push(group);
      group = [];
      length = 0;
    }
    group.push(k);
    length += n;
  }
  if (group.length > 0) out.push(group);
  return out;
}

/**
 * Comment mode: `INSERT … ON DUPLICATE KEY UPDATE n = n + 1 /* MEMCACHE_DIRTY … ts=… *\/` per chunk of
 * keys. Every execution changes this connection's carrier row, so each is logged — as an Annotate_rows
 * (ROW) or with its text (STATEMENT) — whatever the transaction's other statements did.
 */
export function carrierStatements(
  table: TableName,
  keys: readonly string[],
  ts: number,
  maxChars = MAX_ANNOTATION_CHARS,
): string[] {
  return chunkByEncodedLength(keys, maxChars).map(
    (group) =>
      `INSERT INTO ${table.sql} (conn_id, n) VALUES (CONNECTION_ID(), 1) ` +
      `ON DUPLICATE KEY UPDATE n = n + 1 ${formatAnnotation(group, { ts })}`,
  );
}

/** Outbox mode: the keys as rows, each key's UTF-8 bytes as a hex literal (no escaping to get wrong). */
export function outboxStatements(
  table: TableName,
  keys: readonly string[],
  maxRows = MAX_OUTBOX_ROWS,
): string[] {
  const out: string[] = [];
  for (let i = 0; i < keys.length; i += maxRows) {
    const values = keys
      .slice(i, i + maxRows)
      .map((k) => `(X'${Buffer.from(k, 'utf8').toString('hex')}')`)
      .join(',');
    out.push(`INSERT INTO ${table.sql} (cache_key) VALUES ${values}`);
  }
  return out;
}

const TX_CONTROL = /^(?:\s|\/\*(?!!|M!)[\s\S]*?\*\/)*(BEGIN|COMMIT|ROLLBACK|START\s+TRANSACTION|XA\s)/i;

/**
 * True for statements that would end or restart the helper's transaction (BEGIN, COMMIT, ROLLBACK,
 * START TRANSACTION, XA). DDL also commits implicitly; that cannot be caught this cheaply (documented).
 */
export function isTransactionControl(sql: string): boolean {
  return TX_CONTROL.test(sql);
}
