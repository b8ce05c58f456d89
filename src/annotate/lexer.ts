/**
 * Just enough of the MySQL/MariaDB lexer to tell code from strings, quoted identifiers and comments.
 * One forward pass; every inner loop only moves forward, so hostile input costs O(n).
 *
 * The statement text must be in an ASCII-compatible charset whose multi-byte sequences never contain
 * ASCII bytes (utf8mb4, utf8mb3, latin1, binary). GBK, Big5, SJIS/cp932 can hide a 0x5C (backslash) in
 * a trail byte and are not supported.
 */

export interface LexOptions {
  /** sql_mode NO_BACKSLASH_ESCAPES: a backslash in a string is an ordinary character. */
  readonly noBackslashEscapes?: boolean;
  /** sql_mode ANSI_QUOTES: "…" is an identifier, in which a backslash never escapes. */
  readonly ansiQuotes?: boolean;
  /**
   * The text was lexed by MySQL, not MariaDB: slash-star-M-bang (MariaDB's own executable comment) is
   * a plain comment there, ending at the first star-slash whatever quotes it holds.
   */
  readonly mysql?: boolean;
}

const SQL_MODE_ANSI_QUOTES = 0x4n;
const SQL_MODE_NO_BACKSLASH_ESCAPES = 0x100000n;

/** Lexer options from the 64-bit sql_mode a QUERY event carries (status variable Q_SQL_MODE_CODE). */
export function lexOptionsFromSqlMode(sqlMode: bigint): LexOptions {
  return {
    noBackslashEscapes: (sqlMode & SQL_MODE_NO_BACKSLASH_ESCAPES) !== 0n,
    ansiQuotes: (sqlMode & SQL_MODE_ANSI_QUOTES) !== 0n,
  };
}

/**
 * - string, identifier: '…', "…", `…` (quotes included)
 * - comment: a plain block comment; hint: an optimizer hint; both end at the first star-slash
 * - executable: the versioned forms that start with slash-star-bang or (MariaDB only) slash-star-M-bang.
 *   Their content is SQL, so quotes inside are honoured when looking for the end.
 * - line-comment: # or "-- " up to (not including) the newline
 */
export type RegionKind = 'string' | 'identifier' | 'comment' | 'hint' | 'executable' | 'line-comment';

/**
 * Called for each region in order, with [start, end) offsets. An unterminated region runs to the end of
 * the text (terminated = false) and is always the last call: nothing after its start is code.
 */
export type RegionVisitor = (kind: RegionKind, start: number, end: number, terminated: boolean) => void;

const SQUOTE = 0x27;
const DQUOTE = 0x22;
const BACKTICK = 0x60;
const BACKSLASH = 0x5c;
const HASH = 0x23;
const DASH = 0x2d;
const SLASH = 0x2f;
const STAR = 0x2a;
const BANG = 0x21;
const PLUS = 0x2b;
const UPPER_M = 0x4d;

/** Index just past the closing quote of the quoted run opening at `open`, or -1 when unterminated. */
function skipQuoted(sql: string, open: number, backslashEscapes: boolean): number {
  const quote = sql.charCodeAt(open);
  const n = sql.length;
  let j = open + 1;
  while (j < n) {
    const c = sql.charCodeAt(j);
    if (c === BACKSLASH && backslashEscapes) {
      j += 2;
    } else if (c === quote) {
      // A doubled quote is an escaped quote in every mode.
      if (sql.charCodeAt(j + 1) !== quote) return j + 1;
      j += 2;
    } else {
      j++;
    }
  }
  return -1;
}

function quotedKind(quote: number, opts: LexOptions): { kind: RegionKind; backslash: boolean } {
  if (quote === BACKTICK || (quote === DQUOTE && opts.ansiQuotes === true)) {
    return { kind: 'identifier', backslash: false };
  }
  return { kind: 'string', backslash: opts.noBackslashEscapes !== true };
}

// Content of an executed versioned comment is lexed as code by the server, and a plain comment nested
// in it is consumed up to its own first star-slash; line comments inside are not modelled.
function skipExecutable(sql: string, from: number, opts: LexOptions): number {
  const n = sql.length;
  let j = from;
  while (j < n) {
    const c = sql.charCodeAt(j);
    if (c === STAR && sql.charCodeAt(j + 1) === SLASH) return j + 2;
    if (c === SQUOTE || c === DQUOTE || c === BACKTICK) {
      j = skipQuoted(sql, j, quotedKind(c, opts).backslash);
      if (j < 0) return -1;
    } else if (c === SLASH && sql.charCodeAt(j + 1) === STAR) {
      const close = sql.indexOf('*/', j + 2);
      if (close < 0) return -1;
      j = close + 2;
    } else {
      j++;
    }
  }
  return -1;
}

/** "--" starts a comment only when followed by whitespace, a control character or the end of text. */
function dashDashIsComment(sql: string, at: number): boolean {
  if (at >= sql.length) return true;
  const c = sql.charCodeAt(at);
  return c <= 0x20 || c === 0x7f;
}

/** The chars that may open a region (quotes, #, -, /): every other char is skipped with one lookup. */
const MAY_OPEN = new Uint8Array(128);
for (const c of [SQUOTE, DQUOTE, BACKTICK, HASH, DASH, SLASH]) MAY_OPEN[c] = 1;

export function scanSql(sql: string, opts: LexOptions, visit: RegionVisitor): void {
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (c >= 0x80 || MAY_OPEN[c] === 0) {
      i++;
    } else if (c === SQUOTE || c === DQUOTE || c === BACKTICK) {
      const { kind, backslash } = quotedKind(c, opts);
      const end = skipQuoted(sql, i, backslash);
      if (end < 0) {
        visit(kind, i, n, false);
        return;
      }
      visit(kind, i, end, true);
      i = end;
    } else if (
      c === HASH ||
      (c === DASH && sql.charCodeAt(i + 1) === DASH && dashDashIsComment(sql, i + 2))
    ) {
      const nl = sql.indexOf('\n', i + 1);
      const end = nl < 0 ? n : nl;
      visit('line-comment', i, end, true);
      i = end;
    } else if (c === SLASH && sql.charCodeAt(i + 1) === STAR) {
      const k = sql.charCodeAt(i + 2);
      let end: number;
      let kind: RegionKind;
      if (k === BANG || (k === UPPER_M && sql.charCodeAt(i + 3) === BANG && opts.mysql !== true)) {
        kind = 'executable';
        end = skipExecutable(sql, i + (k === BANG ? 3 : 4), opts);
      } else {
        kind = k === PLUS ? 'hint' : 'comment';
        const close = sql.indexOf('*/', i + 2);
        end = close < 0 ? -1 : close + 2;
      }
      if (end < 0) {
        visit(kind, i, n, false);
        return;
      }
      visit(kind, i, end, true);
      i = end;
    } else {
      i++;
    }
  }
}

export function isSqlSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}
