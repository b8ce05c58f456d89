import { describe, expect, it } from 'vitest';
import { annotate, extractAnnotations, formatAnnotation } from '../../../src/annotate/index.js';
import { thrown } from './helpers.js';

describe('formatAnnotation', () => {
  it('writes the v1 form', () => {
    expect(formatAnnotation(['user:1', 'feed:1'])).toBe('/* MEMCACHE_DIRTY user:1,feed:1 */');
    expect(formatAnnotation(['a b'.replace(' ', '')], { ts: 1700000000123 })).toBe(
      '/* MEMCACHE_DIRTY ab ts=1700000000123 */',
    );
    expect(formatAnnotation(['x*/', 'a,b'])).toBe('/* MEMCACHE_DIRTY x%2A%2F,a%2Cb */');
  });

  it.each([
    [[], {}, 'ANNOTATION_NO_KEYS'],
    [['ok', ''], {}, 'ANNOTATION_INVALID_KEY'],
    [['ok', 'has space'], {}, 'ANNOTATION_INVALID_KEY'],
    [['ok'], { ts: -1 }, 'ANNOTATION_INVALID_FIELD'],
    [['ok'], { ts: 1.5 }, 'ANNOTATION_INVALID_FIELD'],
    [['ok'], { ts: Number.NaN }, 'ANNOTATION_INVALID_FIELD'],
  ])('throws for %j %j', (keys, fields, code) => {
    expect(thrown(() => formatAnnotation(keys, fields))).toMatchObject({ code, retryable: false });
  });
});

describe('annotate', () => {
  it.each([
    ['UPDATE t SET a = 1', 'UPDATE t SET a = 1 /* MEMCACHE_DIRTY k */'],
    ['UPDATE t SET a = 1;', 'UPDATE t SET a = 1 /* MEMCACHE_DIRTY k */;'],
    ['UPDATE t SET a = 1 ;\n', 'UPDATE t SET a = 1 /* MEMCACHE_DIRTY k */ ;\n'],
    ['UPDATE t SET a = 1 -- why', 'UPDATE t SET a = 1 /* MEMCACHE_DIRTY k */ -- why'],
    ['UPDATE t SET a = 1 # why', 'UPDATE t SET a = 1 /* MEMCACHE_DIRTY k */ # why'],
    ['UPDATE t SET a = 1; -- why', 'UPDATE t SET a = 1 /* MEMCACHE_DIRTY k */; -- why'],
    ['UPDATE t SET a = 1 /* c */', 'UPDATE t SET a = 1 /* MEMCACHE_DIRTY k */ /* c */'],
    ["UPDATE t SET a = 'x;'", "UPDATE t SET a = 'x;' /* MEMCACHE_DIRTY k */"],
    ["UPDATE t SET a = '-- x'", "UPDATE t SET a = '-- x' /* MEMCACHE_DIRTY k */"],
    ['UPDATE `t;` SET a = 1', 'UPDATE `t;` SET a = 1 /* MEMCACHE_DIRTY k */'],
    [
      'INSERT INTO t VALUES (1) /*!ON DUPLICATE KEY UPDATE a=1 */',
      'INSERT INTO t VALUES (1) /*!ON DUPLICATE KEY UPDATE a=1 */ /* MEMCACHE_DIRTY k */',
    ],
    ['SELECT 5--1', 'SELECT 5--1 /* MEMCACHE_DIRTY k */'],
    ['SELECT 5 --', 'SELECT 5 /* MEMCACHE_DIRTY k */ --'],
    [
      '/* MEMCACHE_DIRTY a */ UPDATE t SET a = 1',
      '/* MEMCACHE_DIRTY a */ UPDATE t SET a = 1 /* MEMCACHE_DIRTY k */',
    ],
  ])('%j', (sql, expected) => {
    expect(annotate(sql, ['k'])).toBe(expected);
  });

  it('adds fields and keeps the annotation readable by the tailer', () => {
    const sql = annotate("UPDATE t SET a = 'x' -- c", ['user:1', 'ü'], { ts: 42 });
    expect(sql).toBe("UPDATE t SET a = 'x' /* MEMCACHE_DIRTY user:1,%C3%BC ts=42 */ -- c");
    expect(extractAnnotations(sql).annotations).toEqual([
      { start: 21, end: 61, version: 1, keys: ['user:1', 'ü'], ts: 42 },
    ]);
  });

  it('lexes with the session sql_mode', () => {
    expect(annotate("UPDATE t SET a = 'C:\\'", ['k'], {}, { noBackslashEscapes: true })).toBe(
      "UPDATE t SET a = 'C:\\' /* MEMCACHE_DIRTY k */",
    );
    expect(thrown(() => annotate("UPDATE t SET a = 'C:\\'", ['k']))).toMatchObject({
      code: 'ANNOTATION_UNTERMINATED',
    });
  });

  it.each([
    ['UPDATE t SET a = 1; UPDATE u SET b = 2', 'ANNOTATION_MULTI_STATEMENT'],
    ["UPDATE t SET a = 1; 'x'", 'ANNOTATION_MULTI_STATEMENT'],
    ["UPDATE t SET a = 'x", 'ANNOTATION_UNTERMINATED'],
    ['UPDATE t SET a = 1 /* x', 'ANNOTATION_UNTERMINATED'],
    ['', 'ANNOTATION_EMPTY_STATEMENT'],
    ['  ;  ', 'ANNOTATION_EMPTY_STATEMENT'],
    ['-- only a comment', 'ANNOTATION_EMPTY_STATEMENT'],
  ])('refuses %j (%s)', (sql, code) => {
    expect(thrown(() => annotate(sql, ['k']))).toMatchObject({ code, retryable: false });
  });

  it('checks the keys before anything else', () => {
    expect(thrown(() => annotate('', ['bad key']))).toMatchObject({ code: 'ANNOTATION_INVALID_KEY' });
  });
});
