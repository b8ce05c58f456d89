import { describe, expect, it } from 'vitest';
import { extractAnnotations, lexOptionsFromSqlMode } from '../../../src/annotate/index.js';

const keysOf = (sql: string, opts = {}): string[] => extractAnnotations(sql, opts).keys;
const reasonsOf = (sql: string, opts = {}): string[] =>
  extractAnnotations(sql, opts).rejected.map((r) => r.reason);

describe('extractAnnotations: text that is not a real comment never yields keys', () => {
  it.each([
    [`INSERT INTO t VALUES ('/* MEMCACHE_DIRTY admin:1 */')`],
    [`INSERT INTO t VALUES ("/* MEMCACHE_DIRTY admin:1 */")`],
    [`INSERT INTO t VALUES ('it\\'s /* MEMCACHE_DIRTY x */')`],
    [`INSERT INTO t VALUES ('it''s /* MEMCACHE_DIRTY x */')`],
    [`INSERT INTO t VALUES ("say \\"/* MEMCACHE_DIRTY x */\\"")`],
    [`INSERT INTO t VALUES ("say ""/* MEMCACHE_DIRTY x */""")`],
    [`INSERT INTO t VALUES ('\\\\', '/* MEMCACHE_DIRTY x */')`],
    ['SELECT `/* MEMCACHE_DIRTY x */` FROM t'],
    ['SELECT `a``/* MEMCACHE_DIRTY x */` FROM t'],
    ['INSERT /*! IGNORE /* MEMCACHE_DIRTY x */ */ INTO t VALUES (1)'],
    ['CREATE TABLE t (a INT) /*!50100 COMMENT "/* MEMCACHE_DIRTY x */" */'],
    ["INSERT INTO t VALUES (1) /*!90000 ON DUPLICATE KEY UPDATE a='*/ /* MEMCACHE_DIRTY x */' */"],
    ['SELECT 1 /*M! /* MEMCACHE_DIRTY x */ */'],
    ["SELECT 1 /*M!100500 , '/* MEMCACHE_DIRTY x */' */"],
    ['SELECT /*+ MEMCACHE_DIRTY x */ 1'],
    ['/*!MEMCACHE_DIRTY x */ SELECT 1'],
    ['SELECT 1 /* see MEMCACHE_DIRTY x */'],
    ['SELECT 1 /* MEMCACHE_DIRTYx y */'],
    ['SELECT 1 /* memcache_dirty x */'],
    ['SELECT 1 -- MEMCACHE_DIRTY x'],
    ['SELECT 1 # MEMCACHE_DIRTY x'],
    ['SELECT 1 # /* MEMCACHE_DIRTY x */\n'],
    ['SELECT 1 -- /* MEMCACHE_DIRTY x */\n, 2'],
    ["SELECT '/* MEMCACHE_DIRTY x */"],
    ["SELECT 'a', 'unterminated /* MEMCACHE_DIRTY x */"],
    ['SELECT `/* MEMCACHE_DIRTY x */'],
    ['SELECT 1 /* MEMCACHE_DIRTY x'],
    ['SELECT 1 /*! /* MEMCACHE_DIRTY x */'],
  ])('%s', (sql) => {
    expect(keysOf(sql)).toEqual([]);
    expect(extractAnnotations(sql).annotations).toEqual([]);
  });
});

describe('extractAnnotations: real comments', () => {
  it.each([
    ['/* MEMCACHE_DIRTY user:1 */ UPDATE users SET a = 1', ['user:1']],
    ['UPDATE users SET a = 1 /* MEMCACHE_DIRTY user:1,user:2 */', ['user:1', 'user:2']],
    ['UPDATE users /* MEMCACHE_DIRTY a */ SET a = 1', ['a']],
    ['UPDATE users SET a=1/* MEMCACHE_DIRTY a */WHERE id=1', ['a']],
    ['/* MEMCACHE_DIRTY a,b */ UPDATE t SET x = 1 /* MEMCACHE_DIRTY c,a */', ['a', 'b', 'c']],
    ["UPDATE t SET x = 'a */ b' /* MEMCACHE_DIRTY k */", ['k']],
    ['UPDATE t SET x = "*/" /* MEMCACHE_DIRTY k */', ['k']],
    ["UPDATE t SET x = 'it\\'s' /* MEMCACHE_DIRTY k */", ['k']],
    ["UPDATE t SET x = 'it''s' /* MEMCACHE_DIRTY k */", ['k']],
    ["UPDATE t SET x = '\\\\' /* MEMCACHE_DIRTY k */", ['k']],
    ['UPDATE `t``x` SET x = 1 /* MEMCACHE_DIRTY k */', ['k']],
    ['INSERT /*! IGNORE */ INTO t VALUES (1) /* MEMCACHE_DIRTY k */', ['k']],
    ["INSERT INTO t VALUES (1) /*!50000 , ('*/') */ /* MEMCACHE_DIRTY k */", ['k']],
    ['SELECT /*+ NO_ICP(t) */ 1 /* MEMCACHE_DIRTY k */', ['k']],
    ['UPDATE t SET x = 1 -- note\n/* MEMCACHE_DIRTY k */', ['k']],
    ['UPDATE t SET x = 1 # note\n/* MEMCACHE_DIRTY k */', ['k']],
    ['UPDATE t SET x = 5--1 /* MEMCACHE_DIRTY k */', ['k']],
    ['UPDATE t SET x = 1; UPDATE u SET y = 2 /* MEMCACHE_DIRTY k */;', ['k']],
    ['/*\tMEMCACHE_DIRTY\na\n*/ DELETE FROM t', ['a']],
    ['/*MEMCACHE_DIRTY a*/ DELETE FROM t', ['a']],
    ['DELETE FROM t /* MEMCACHE_DIRTY a ts=1700000000000 */', ['a']],
  ])('%s', (sql, keys) => {
    expect(keysOf(sql)).toEqual(keys);
  });

  it('reports offsets and fields of each annotation', () => {
    const sql = "/* MEMCACHE_DIRTY a,b ts=1700000000123 */ UPDATE t SET s = '*/' /* MEMCACHE_DIRTY c */";
    expect(extractAnnotations(sql)).toEqual({
      keys: ['a', 'b', 'c'],
      annotations: [
        { start: 0, end: 41, version: 1, keys: ['a', 'b'], ts: 1700000000123 },
        { start: 64, end: 86, version: 1, keys: ['c'] },
      ],
      rejected: [],
    });
  });

  it('returns an empty result without lexing when the keyword is absent', () => {
    expect(extractAnnotations("SELECT 'unterminated")).toEqual({ keys: [], annotations: [], rejected: [] });
    expect(extractAnnotations(new Uint8Array())).toEqual({ keys: [], annotations: [], rejected: [] });
  });
});

describe('extractAnnotations: reports what it ignored', () => {
  it('an unterminated string or comment that hides the keyword', () => {
    expect(extractAnnotations("SELECT 'x /* MEMCACHE_DIRTY a */").rejected).toEqual([
      {
        reason: 'unterminated',
        start: 7,
        text: "'x /* MEMCACHE_DIRTY a */",
        detail: 'unterminated string; annotations from here on ignored',
      },
    ]);
    expect(reasonsOf('SELECT 1 /* MEMCACHE_DIRTY a')).toEqual(['unterminated']);
    expect(reasonsOf("/* MEMCACHE_DIRTY a */ SELECT 'x")).toEqual([]);
    expect(keysOf("/* MEMCACHE_DIRTY a */ SELECT 'x")).toEqual(['a']);
  });

  it('a line comment that starts with the keyword', () => {
    expect(extractAnnotations('SELECT 1 -- MEMCACHE_DIRTY a\n').rejected).toEqual([
      {
        reason: 'line-comment',
        start: 9,
        text: '-- MEMCACHE_DIRTY a',
        detail: 'annotations must be block comments; a line comment is ignored',
      },
    ]);
    expect(reasonsOf('SELECT 1 #MEMCACHE_DIRTY a')).toEqual(['line-comment']);
    expect(reasonsOf('SELECT 1 -- see MEMCACHE_DIRTY docs')).toEqual([]);
  });
});

describe('sql_mode', () => {
  // Under NO_BACKSLASH_ESCAPES 'C:\' is a complete string.
  const nbe = "INSERT INTO t VALUES ('C:\\') /* MEMCACHE_DIRTY k */";
  const escaped = "INSERT INTO t VALUES ('it\\' /* MEMCACHE_DIRTY x */ ')";

  it('NO_BACKSLASH_ESCAPES changes where strings end', () => {
    expect(keysOf(nbe, { noBackslashEscapes: true })).toEqual(['k']);
    expect(keysOf(escaped, { noBackslashEscapes: false })).toEqual([]);
  });

  it('the default (backslash escapes) errs towards missing an annotation, never towards user text', () => {
    expect(extractAnnotations(nbe)).toMatchObject({ keys: [], rejected: [{ reason: 'unterminated' }] });
    // The opposite mistake would expose string content as code:
    expect(keysOf(escaped, { noBackslashEscapes: true })).toEqual(['x']);
  });

  it('ANSI_QUOTES makes "…" an identifier without backslash escapes', () => {
    const sql = 'SELECT "a\\" /* MEMCACHE_DIRTY k */';
    expect(keysOf(sql, { ansiQuotes: true })).toEqual(['k']);
    expect(keysOf(sql)).toEqual([]);
  });

  it('reads the flags from a QUERY event sql_mode', () => {
    expect(lexOptionsFromSqlMode(0n)).toEqual({ noBackslashEscapes: false, ansiQuotes: false });
    expect(lexOptionsFromSqlMode(0x100004n)).toEqual({ noBackslashEscapes: true, ansiQuotes: true });
    // MariaDB's default: STRICT_TRANS_TABLES, ERROR_FOR_DIVISION_BY_ZERO, NO_AUTO_CREATE_USER,
    // NO_ENGINE_SUBSTITUTION
    expect(lexOptionsFromSqlMode(0x0000_0000_6420_0000n)).toEqual({
      noBackslashEscapes: false,
      ansiQuotes: false,
    });
  });
});

describe('byte input', () => {
  const enc = new TextEncoder();

  it('decodes keys from the exact bytes and reports byte offsets', () => {
    const sql = enc.encode("UPDATE t SET name = 'Zoë' /* MEMCACHE_DIRTY caf%C3%A9,na\u00efve */");
    expect(extractAnnotations(sql)).toEqual({
      keys: ['café', 'naïve'],
      annotations: [{ start: 27, end: 64, version: 1, keys: ['café', 'naïve'] }],
      rejected: [],
    });
  });

  it('rejects a raw byte sequence that is not UTF-8 instead of mangling it', () => {
    const sql = Uint8Array.from([...enc.encode('/* MEMCACHE_DIRTY ok,b'), 0xff, ...enc.encode('ad */')]);
    expect(extractAnnotations(sql)).toMatchObject({
      keys: ['ok'],
      rejected: [{ reason: 'invalid-utf8', start: 21 }],
    });
  });

  it('respects byteOffset of a view into a larger buffer', () => {
    const whole = enc.encode('xxxx/* MEMCACHE_DIRTY k */');
    expect(extractAnnotations(whole.subarray(4)).annotations).toEqual([
      { start: 0, end: 22, version: 1, keys: ['k'] },
    ]);
  });
});
