/**
 * The adversarial statement set (issue 5): user data that looks like annotations inside every kind of
 * literal and identifier, nested and unterminated comments, executable comments, multibyte and invalid
 * UTF-8, keys at and over 250 bytes, NUL bytes — each with the exact keys the tailer must extract
 * (usually none). Used by the pure-extractor test and, for cases marked `e2e`, through a real binlog.
 *
 * Expected keys are written from the grammar (docs/annotation-grammar.md), not computed by the code under
 * test: generated cases wrap a look-alike in a context that keeps it data (expected: none) and may add
 * one real annotation after the data (expected: exactly its keys).
 */
import type { LexOptions } from '../../../src/annotate/index.js';

export interface AdversarialCase {
  name: string;
  sql: string | Uint8Array;
  keys: string[];
  /**
   * The keys when the sql_mode is not known, as for every MariaDB Annotate_rows (ExtractOptions.
   * sqlModeUnknown); the same as `keys` unless given. This is what the e2e run expects.
   */
  unknownKeys?: string[];
  lex?: LexOptions;
  /** A valid write statement for the e2e run (ROW format logs it as Annotate_rows). */
  e2e?: boolean;
  /** sql_mode flags the e2e session must set for this statement. */
  sqlMode?: 'ANSI_QUOTES' | 'NO_BACKSLASH_ESCAPES';
  /**
   * The one server flavor whose lexing the case is about (its `keys` are for that lexing, and the e2e
   * run executes it only there): MariaDB's slash-star-M-bang executable comment is a plain comment to
   * MySQL, so such text means something else, or is no valid SQL, on the other flavor. Unset: both
   * flavors lex the text alike.
   */
  server?: 'mariadb' | 'mysql';
}

/** Annotation look-alikes a user might store. */
const PAYLOADS: [string, string][] = [
  ['plain', '/* MEMCACHE_DIRTY admin:1 */'],
  ['no spaces', '/*MEMCACHE_DIRTY admin:2*/'],
  ['closes first', '*/ /* MEMCACHE_DIRTY admin:3 */ /*'],
  ['with fields', '/* MEMCACHE_DIRTY admin:4,admin:5 ts=1 */'],
  ['quote break', "'; /* MEMCACHE_DIRTY admin:6 */ --"],
  ['backslash quote', "\\' /* MEMCACHE_DIRTY admin:7 */"],
  ['double quotes', '" /* MEMCACHE_DIRTY admin:8 */ "'],
  ['backticks', '` /* MEMCACHE_DIRTY admin:9 */ `'],
  ['newlines', '\n/* MEMCACHE_DIRTY admin:10 */\n-- x'],
  ['multibyte', 'é😀中 /* MEMCACHE_DIRTY admin:11 */'],
  ['NUL', '\u0000 /* MEMCACHE_DIRTY admin:12 */ \u0000'],
];

const bs = (p: string) => p.replace(/\\/g, '\\\\');

/** How a user value becomes part of a statement, as a literal or identifier that keeps it data. */
interface Context {
  name: string;
  wrap: (payload: string) => string;
  lex?: LexOptions;
  sqlMode?: AdversarialCase['sqlMode'];
  /** MariaDB identifiers cannot hold NUL or characters beyond U+FFFF. */
  identifier?: boolean;
  /** N'…' is the national charset, utf8mb3: no characters beyond U+FFFF on a real server. */
  bmpOnly?: boolean;
  server?: AdversarialCase['server'];
}

const INSERT = 'INSERT INTO adv.notes (body) VALUES';
const SELECT = 'INSERT INTO adv.notes (body) SELECT';
const CONTEXTS: Context[] = [
  { name: "'…' with \\' escapes", wrap: (p) => `${INSERT} ('${bs(p).replace(/'/g, "\\'")}')` },
  { name: "'…' with '' escapes", wrap: (p) => `${INSERT} ('${bs(p).replace(/'/g, "''")}')` },
  { name: '"…" string with \\" escapes', wrap: (p) => `${INSERT} ("${bs(p).replace(/"/g, '\\"')}")` },
  { name: '"…" string with "" escapes', wrap: (p) => `${INSERT} ("${bs(p).replace(/"/g, '""')}")` },
  { name: "N'…'", wrap: (p) => `${INSERT} (N'${bs(p).replace(/'/g, "\\'")}')`, bmpOnly: true },
  { name: "_utf8mb4'…'", wrap: (p) => `${INSERT} (_utf8mb4'${bs(p).replace(/'/g, "''")}')` },
  {
    name: '`…` alias',
    wrap: (p) => `${SELECT} 'x' AS \`${p.replace(/`/g, '``')}\``,
    identifier: true,
  },
  {
    name: '"…" alias under ANSI_QUOTES',
    wrap: (p) => `${SELECT} 'x' AS "${p.replace(/"/g, '""')}"`,
    lex: { ansiQuotes: true },
    sqlMode: 'ANSI_QUOTES',
    identifier: true,
  },
  {
    name: "'…' under NO_BACKSLASH_ESCAPES",
    wrap: (p) => `${INSERT} ('${p.replace(/'/g, "''")}')`,
    lex: { noBackslashEscapes: true },
    sqlMode: 'NO_BACKSLASH_ESCAPES',
  },
  { name: "'…' in /*!50000 */", wrap: (p) => `${INSERT} (/*!50000 '${bs(p).replace(/'/g, "\\'")}' */)` },
  {
    name: "'…' in /*M!100000 */",
    wrap: (p) => `${INSERT} (/*M!100000 '${bs(p).replace(/'/g, "''")}' */)`,
    server: 'mariadb',
  },
];

function generated(): AdversarialCase[] {
  const out: AdversarialCase[] = [];
  let n = 0;
  for (const c of CONTEXTS) {
    for (const [pname, payload] of PAYLOADS) {
      const astral = /[\u{10000}-\u{10FFFF}]/u.test(payload);
      const e2e =
        !(c.identifier && (astral || payload.includes('\u0000') || /\s$/.test(payload))) &&
        !(c.bmpOnly && astral);
      const base = { lex: c.lex, sqlMode: c.sqlMode, e2e, ...(c.server ? { server: c.server } : {}) };
      const sql = c.wrap(payload);
      out.push({ name: `${c.name}: ${pname}`, sql, keys: [], ...base });
      n++;
      out.push({
        name: `${c.name}: ${pname}, then a real annotation`,
        sql: `${sql} /* MEMCACHE_DIRTY real:${n},real:${n}:b */`,
        keys: [`real:${n}`, `real:${n}:b`],
        ...base,
      });
    }
  }
  return out;
}

const enc = new TextEncoder();
const bytes = (...parts: (string | number[])[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...enc.encode(p)] : p)));

const HAND: AdversarialCase[] = [
  // Nested and unterminated comments.
  {
    name: 'nested: the outer comment ends at the first */',
    sql: 'SELECT 1 /* a /* MEMCACHE_DIRTY x:1 */ */',
    keys: [],
  },
  { name: 'nested inside an annotation', sql: 'SELECT 1 /* MEMCACHE_DIRTY x:2 /* y */', keys: ['x:2'] },
  {
    name: 'annotation nested in a comment',
    sql: `${INSERT} ('a') /* note: /* MEMCACHE_DIRTY x:3 */`,
    keys: [],
    e2e: true,
  },
  { name: 'unterminated comment', sql: 'SELECT 1 /* MEMCACHE_DIRTY x:4', keys: [] },
  { name: 'unterminated string', sql: "INSERT INTO t VALUES ('abc /* MEMCACHE_DIRTY x:5 */", keys: [] },
  { name: 'unterminated backtick', sql: 'SELECT `abc /* MEMCACHE_DIRTY x:6 */', keys: [] },
  { name: 'unterminated "…"', sql: 'SELECT "abc /* MEMCACHE_DIRTY x:7 */', keys: [] },
  {
    name: 'annotation before an unterminated string is kept',
    sql: "UPDATE t SET a = 1 /* MEMCACHE_DIRTY ok:1 */ WHERE b = 'oops /* MEMCACHE_DIRTY x:8 */",
    keys: ['ok:1'],
  },
  {
    name: 'escaped quote keeps the string open',
    sql: "SELECT 'it\\' /* MEMCACHE_DIRTY x:9 */",
    keys: [],
    // Only NO_BACKSLASH_ESCAPES lexes this completely: had the server executed it, that was its mode.
    unknownKeys: ['x:9'],
  },
  {
    name: 'escaped backslash closes the string',
    sql: `${INSERT} ('C:\\\\') /* MEMCACHE_DIRTY ok:2 */`,
    keys: ['ok:2'],
    e2e: true,
  },
  {
    name: "'C:\\' under NO_BACKSLASH_ESCAPES",
    sql: `${INSERT} ('C:\\') /* MEMCACHE_DIRTY ok:3 */`,
    keys: ['ok:3'],
    lex: { noBackslashEscapes: true },
    sqlMode: 'NO_BACKSLASH_ESCAPES',
    e2e: true,
  },
  {
    name: "'C:\\' lexed with default escapes: unterminated, nothing taken",
    sql: `${INSERT} ('C:\\') /* MEMCACHE_DIRTY ok:3 */`,
    keys: [],
    unknownKeys: ['ok:3'],
  },
  {
    name: "mysql2's escaping of it's, then a real annotation",
    sql: `${INSERT} ('it\\'s') /* MEMCACHE_DIRTY ok:16 */`,
    keys: ['ok:16'],
    e2e: true,
  },
  {
    name: 'a quote in a trailing line comment makes the sql_mode matter: not taken when unknown',
    sql: `${INSERT} ('x\\'y') /* MEMCACHE_DIRTY ok:17 */ -- it's`,
    keys: ['ok:17'],
    // Under NO_BACKSLASH_ESCAPES the text also lexes completely, with the annotation inside a string.
    unknownKeys: [],
    e2e: true,
  },
  // Executable comments, hints, line comments.
  { name: '/*! */ content is SQL', sql: 'SELECT 1 /*! MEMCACHE_DIRTY x:10 */', keys: [] },
  { name: '/*!50000 */', sql: 'SELECT 1 /*!50000 MEMCACHE_DIRTY x:11 */', keys: [] },
  { name: '/*M! */', sql: 'SELECT 1 /*M! MEMCACHE_DIRTY x:12 */', keys: [] },
  { name: '/*M!100000 */', sql: 'SELECT 1 /*M!100000 MEMCACHE_DIRTY x:13 */', keys: [] },
  {
    name: 'MySQL: /*M! is a plain comment, its quote is no string, then a real annotation',
    sql: `${INSERT} ('a') /*M! it's */ /* MEMCACHE_DIRTY ok:18 */`,
    keys: ['ok:18'],
    server: 'mysql',
    e2e: true,
  },
  {
    name: 'MySQL: an annotation look-alike after /*M! inside the same plain comment',
    sql: `${INSERT} ('a') /*M!100000 /* MEMCACHE_DIRTY x:27 */`,
    keys: [],
    server: 'mysql',
    e2e: true,
  },
  { name: 'unexecuted version, ! blanked', sql: 'SELECT 1 /* 999999 MEMCACHE_DIRTY x:14 */', keys: [] },
  { name: 'plain comment nested in /*!', sql: 'SELECT 1 /*!99999 /* MEMCACHE_DIRTY x:15 */ */', keys: [] },
  { name: 'optimizer hint', sql: 'SELECT /*+ MEMCACHE_DIRTY x:16 */ 1', keys: [] },
  {
    name: 'executable comment, then a real annotation',
    sql: `INSERT /*! IGNORE */ INTO adv.notes (body) VALUES ('a') /* MEMCACHE_DIRTY ok:4 */`,
    keys: ['ok:4'],
    e2e: true,
  },
  {
    name: 'string with */ inside /*!…*/, then a real annotation',
    sql: `${INSERT} (/*!50000 '*/ /* MEMCACHE_DIRTY x:17 */' */) /* MEMCACHE_DIRTY ok:5 */`,
    keys: ['ok:5'],
    e2e: true,
  },
  { name: '-- line comment', sql: 'SELECT 1 -- /* MEMCACHE_DIRTY x:18 */', keys: [] },
  { name: '# line comment', sql: 'SELECT 1 # /* MEMCACHE_DIRTY x:19 */', keys: [] },
  { name: '-- MEMCACHE_DIRTY as a line comment', sql: 'SELECT 1 -- MEMCACHE_DIRTY x:20', keys: [] },
  {
    name: 'a newline ends a line comment',
    sql: `${INSERT} ('a') -- note\n/* MEMCACHE_DIRTY ok:6 */`,
    keys: ['ok:6'],
    e2e: true,
  },
  { name: '--/* is not a line comment', sql: 'SELECT 5 --/* MEMCACHE_DIRTY ok:7 */ 1', keys: ['ok:7'] },
  { name: '5--1 is arithmetic', sql: 'SELECT 5--1 /* MEMCACHE_DIRTY ok:8 */', keys: ['ok:8'] },
  // Not annotations at all.
  { name: 'lowercase keyword', sql: 'SELECT 1 /* memcache_dirty x:21 */', keys: [] },
  { name: 'keyword not first', sql: 'SELECT 1 /* see MEMCACHE_DIRTY x:22 */', keys: [] },
  { name: 'keyword glued to the key', sql: 'SELECT 1 /*MEMCACHE_DIRTYx:23*/', keys: [] },
  { name: 'NUL before the keyword', sql: 'SELECT 1 /*\u0000MEMCACHE_DIRTY x:24 */', keys: [] },
  { name: 'no keys', sql: 'SELECT 1 /* MEMCACHE_DIRTY */', keys: [] },
  // Keys at and over 250 bytes.
  {
    name: '250 ASCII bytes',
    sql: `${INSERT} ('a') /* MEMCACHE_DIRTY ${'k'.repeat(250)} */`,
    keys: ['k'.repeat(250)],
    e2e: true,
  },
  {
    name: '251 ASCII bytes',
    sql: `${INSERT} ('a') /* MEMCACHE_DIRTY ${'k'.repeat(251)} */`,
    keys: [],
    e2e: true,
  },
  {
    name: '250 bytes percent-encoded',
    sql: `SELECT 1 /* MEMCACHE_DIRTY ${'%E2%82%AC'.repeat(83)}x */`,
    keys: ['€'.repeat(83) + 'x'],
  },
  {
    name: '252 bytes percent-encoded',
    sql: `SELECT 1 /* MEMCACHE_DIRTY ${'%E2%82%AC'.repeat(84)} */`,
    keys: [],
  },
  {
    name: '250 bytes raw é',
    sql: `${INSERT} ('a') /* MEMCACHE_DIRTY ${'é'.repeat(125)} */`,
    keys: ['é'.repeat(125)],
    e2e: true,
  },
  {
    name: '252 bytes raw é',
    sql: `${INSERT} ('a') /* MEMCACHE_DIRTY ${'é'.repeat(126)} */`,
    keys: [],
    e2e: true,
  },
  {
    name: 'the over-long key is dropped, its neighbours kept',
    sql: `${INSERT} ('a') /* MEMCACHE_DIRTY ok:9,${'k'.repeat(251)},ok:10 */`,
    keys: ['ok:9', 'ok:10'],
    e2e: true,
  },
  // NUL bytes and bad encodings in keys.
  { name: '%00 in a key', sql: 'SELECT 1 /* MEMCACHE_DIRTY a%00b */', keys: [] },
  { name: 'raw NUL in a key', sql: 'SELECT 1 /* MEMCACHE_DIRTY a\u0000b */', keys: [] },
  {
    name: 'NUL in a literal, then a real annotation',
    sql: `${INSERT} ('a\\0b') /* MEMCACHE_DIRTY ok:11 */`,
    keys: ['ok:11'],
    e2e: true,
  },
  { name: '%FF', sql: 'SELECT 1 /* MEMCACHE_DIRTY a%FF */', keys: [] },
  { name: 'overlong /', sql: 'SELECT 1 /* MEMCACHE_DIRTY %C0%AF */', keys: [] },
  { name: 'surrogate', sql: 'SELECT 1 /* MEMCACHE_DIRTY %ED%A0%80 */', keys: [] },
  { name: 'beyond U+10FFFF', sql: 'SELECT 1 /* MEMCACHE_DIRTY %F4%90%80%80 */', keys: [] },
  { name: 'leading BOM kept', sql: 'SELECT 1 /* MEMCACHE_DIRTY %EF%BB%BFbom */', keys: ['\ufeffbom'] },
  { name: 'bad escape', sql: 'SELECT 1 /* MEMCACHE_DIRTY a%2,ok:12 */', keys: ['ok:12'] },
  {
    name: 'encoded */ is a key',
    sql: `${INSERT} ('a') /* MEMCACHE_DIRTY a%2A%2Fb */`,
    keys: ['a*/b'],
    e2e: true,
  },
  { name: 'encoded space is rejected', sql: 'SELECT 1 /* MEMCACHE_DIRTY a%20b */', keys: [] },
  // Statement bytes: multibyte and invalid UTF-8.
  {
    name: 'bytes: invalid UTF-8 in a literal, then a real annotation',
    sql: bytes(`${INSERT} ('`, [0xc3, 0x28, 0xff], `') /* MEMCACHE_DIRTY ok:13 */`),
    keys: ['ok:13'],
  },
  { name: 'bytes: raw 0xFF in a key', sql: bytes('SELECT 1 /* MEMCACHE_DIRTY a', [0xff], ' */'), keys: [] },
  {
    name: 'bytes: raw latin1 é in a key',
    sql: bytes('SELECT 1 /* MEMCACHE_DIRTY caf', [0xe9], ' */'),
    keys: [],
  },
  { name: 'bytes: raw UTF-8 é in a key', sql: bytes('SELECT 1 /* MEMCACHE_DIRTY café */'), keys: ['café'] },
  {
    name: 'bytes: truncated UTF-8 in a key',
    sql: bytes('SELECT 1 /* MEMCACHE_DIRTY a', [0xe2, 0x82], ' */'),
    keys: [],
  },
  {
    name: 'bytes: annotation look-alike in a literal with a multibyte quote neighbour',
    sql: bytes(`${INSERT} ('`, [0xe2, 0x80, 0x99], ` /* MEMCACHE_DIRTY x:25 */')`),
    keys: [],
  },
  // Several annotations and statements.
  {
    name: 'keys de-duplicated across annotations',
    sql: 'SELECT 1 /* MEMCACHE_DIRTY a,b */ /* MEMCACHE_DIRTY b,c */',
    keys: ['a', 'b', 'c'],
  },
  {
    name: 'second statement of a packet',
    sql: 'SELECT 1; SELECT 2 /* MEMCACHE_DIRTY ok:14 */',
    keys: ['ok:14'],
  },
  {
    name: 'annotation-looking string, real annotation and another string',
    sql: `${INSERT} ('/* MEMCACHE_DIRTY x:26 */'), ('b') /* MEMCACHE_DIRTY ok:15 */`,
    keys: ['ok:15'],
    e2e: true,
  },
];

export const ADVERSARIAL: readonly AdversarialCase[] = [...generated(), ...HAND];
