import { describe, expect, it } from 'vitest';
import {
  annotate,
  decodeKey,
  encodeKey,
  extractAnnotations,
  formatAnnotation,
  validateKey,
  type LexOptions,
} from '../../../src/annotate/index.js';
import { Prng, thrown } from './helpers.js';

// Pieces chosen to hit every escaping rule and every lexer state.
const KEY_PIECES = [
  'user',
  ':',
  '42',
  'profile',
  '_',
  '-',
  '.',
  'a',
  'Z',
  '*/',
  '/*',
  ',',
  '%',
  '%25',
  '%2',
  '=',
  '?',
  "'",
  '"',
  '`',
  '\\',
  '#',
  '-- ',
  ' ',
  '\n',
  '\t',
  '\x00',
  '\x7f',
  'é',
  '中',
  '😀',
  '\ufeff',
  '\u00a0',
  '\ud800',
  ';',
];
const FAKE = [
  '/* MEMCACHE_DIRTY admin:1 */',
  'MEMCACHE_DIRTY x',
  '*/',
  '/*',
  "'",
  '"',
  '`',
  '\\',
  '-- ',
  '#',
  ';',
  '\n',
];

function randomKey(rng: Prng): string {
  if (rng.chance(0.05)) return 'k'.repeat(250);
  if (rng.chance(0.05)) return 'é'.repeat(125);
  if (rng.chance(0.03)) return '😀'.repeat(62) + rng.pick(['ab', 'abc', 'é']);
  let key = '';
  const n = 1 + rng.int(8);
  for (let i = 0; i < n; i++) key += rng.pick(KEY_PIECES);
  return key;
}

function randomData(rng: Prng): string {
  let s = '';
  const n = rng.int(6);
  for (let i = 0; i < n; i++) s += rng.chance(0.5) ? rng.pick(FAKE) : rng.pick(['abc', ' ', 'x y', 'é']);
  return s;
}

/** A string literal the server would read back as `data`, in the session's quoting style. */
function literal(rng: Prng, data: string, opts: LexOptions): string {
  const q = rng.pick(opts.ansiQuotes === true ? ["'"] : ["'", '"']);
  if (opts.noBackslashEscapes === true) return q + data.replaceAll(q, q + q) + q;
  const escaped = data.replaceAll('\\', '\\\\');
  return q + (rng.chance(0.5) ? escaped.replaceAll(q, '\\' + q) : escaped.replaceAll(q, q + q)) + q;
}

/** One statement whose only annotation-looking text is data, identifiers, hints and line comments. */
function randomStatement(rng: Prng, opts: LexOptions): string {
  const parts = ['UPDATE t SET a =', literal(rng, randomData(rng), opts)];
  const extras = rng.int(5);
  for (let i = 0; i < extras; i++) {
    switch (rng.int(7)) {
      case 0:
        parts.push(', b =', literal(rng, randomData(rng), opts));
        break;
      case 1:
        parts.push(', `' + randomData(rng).replaceAll('`', '``') + '` = 1');
        break;
      case 2:
        parts.push('/*!50000 , c = ' + literal(rng, randomData(rng), opts) + ' */');
        break;
      case 3:
        parts.push('/* note ' + randomData(rng).replaceAll('*/', '') + ' */');
        break;
      case 4:
        parts.push('-- ' + randomData(rng).replaceAll('\n', '') + '\n');
        break;
      case 5:
        parts.push('/*+ NO_ICP(t) */');
        break;
      default:
        parts.push('WHERE id = 1');
    }
  }
  let sql = parts.join(rng.pick([' ', '\n', '\t']));
  if (rng.chance(0.3)) sql += rng.pick([';', ' ;', ';\n']);
  if (rng.chance(0.3)) sql += rng.pick([' -- tail ' + randomData(rng).replaceAll('\n', ''), ' # tail']);
  return sql;
}

/** Where `inserted` was put into `original`, or -1 when `annotated` is not exactly that. */
function insertionOffset(original: string, annotated: string, inserted: string): number {
  if (annotated.length !== original.length + inserted.length) return -1;
  for (let at = 0; at <= original.length; at++) {
    if (
      annotated.startsWith(inserted, at) &&
      annotated.slice(0, at) + inserted + annotated.slice(at + inserted.length) === annotated
    ) {
      if (
        annotated.slice(0, at) === original.slice(0, at) &&
        annotated.slice(at + inserted.length) === original.slice(at)
      ) {
        return at;
      }
    }
  }
  return -1;
}

describe('property: seeded round trips', () => {
  it('decodeKey(encodeKey(k)) === k for valid keys; invalid keys throw', () => {
    const rng = new Prng(0xc0ffee);
    let valid = 0;
    for (let i = 0; i < 5000; i++) {
      const key = randomKey(rng);
      if (validateKey(key) === null) {
        valid++;
        const wire = encodeKey(key);
        // Printable ASCII only, and no separator or quote left raw.
        expect(wire).toMatch(/^[\x21-\x7e]+$/);
        expect(wire.replaceAll(/%[0-9A-F]{2}/g, '')).not.toMatch(/[%,*/=?'"`\\]/);
        expect(decodeKey(wire)).toEqual({ ok: true, key });
      } else {
        expect(thrown(() => encodeKey(key))).toMatchObject({ code: 'ANNOTATION_INVALID_KEY' });
      }
    }
    expect(valid).toBeGreaterThan(1000);
  });

  const modes: [number, LexOptions][] = [
    [1, {}],
    [2, { noBackslashEscapes: true }],
    [3, { ansiQuotes: true }],
  ];
  for (const [seed, opts] of modes) {
    it(`annotate then extract returns exactly the keys, text unchanged (${JSON.stringify(opts)})`, () => {
      const rng = new Prng(seed);
      let checked = 0;
      for (let i = 0; i < 3000; i++) {
        const sql = randomStatement(rng, opts);
        const keys = [...new Set(Array.from({ length: 1 + rng.int(4) }, () => randomKey(rng)))];
        const ts = rng.chance(0.5) ? rng.int(2 ** 42) : undefined;
        const fields = ts === undefined ? {} : { ts };
        // The data in `sql` alone never yields a key.
        expect(extractAnnotations(sql, opts).keys).toEqual([]);
        if (keys.some((k) => validateKey(k) !== null)) {
          expect(thrown(() => annotate(sql, keys, fields, opts))).toMatchObject({
            code: 'ANNOTATION_INVALID_KEY',
          });
          continue;
        }
        const annotated = annotate(sql, keys, fields, opts);
        const inserted = ' ' + formatAnnotation(keys, fields);
        const at = insertionOffset(sql, annotated, inserted);
        expect(at, annotated).toBeGreaterThanOrEqual(0);
        const result = extractAnnotations(annotated, opts);
        expect(result.keys).toEqual(keys);
        // The statements' own "-- MEMCACHE_DIRTY x" line comments are reported, nothing else.
        expect(result.rejected.filter((r) => r.reason !== 'line-comment')).toEqual([]);
        expect(result.annotations).toEqual([
          { start: at + 1, end: at + inserted.length, version: 1, keys, ...(ts === undefined ? {} : { ts }) },
        ]);
        // Same through the byte path the tailer uses.
        expect(extractAnnotations(new TextEncoder().encode(annotated), opts).keys).toEqual(keys);
        checked++;
      }
      expect(checked).toBeGreaterThan(500);
    });
  }

  it('never throws and only reports comments that exist, on random SQL-ish noise', () => {
    const rng = new Prng(42);
    const alphabet = [
      "'",
      '"',
      '`',
      '\\',
      '/',
      '*',
      '!',
      'M',
      '+',
      '#',
      '-',
      ' ',
      '\n',
      ',',
      '%',
      '=',
      'a',
      'v=2',
      'ts=1',
      'MEMCACHE_DIRTY',
      ' MEMCACHE_DIRTY ',
    ];
    for (let i = 0; i < 3000; i++) {
      let text = '';
      const n = rng.int(40);
      for (let j = 0; j < n; j++) text += rng.pick(alphabet);
      const result = extractAnnotations(text, { noBackslashEscapes: rng.chance(0.5) });
      for (const a of result.annotations) {
        expect(text.slice(a.start, a.start + 2)).toBe('/*');
        expect(text.slice(a.end - 2, a.end)).toBe('*/');
        expect(text.slice(a.start + 2, a.end - 2)).not.toContain('*/');
      }
      for (const key of result.keys) expect(validateKey(key)).toBeNull();
    }
  });
});

describe('hostile input terminates (single linear pass)', () => {
  const MB = 1 << 20;
  const cases: [string, () => string][] = [
    ['quotes', () => "'".repeat(MB) + '/* MEMCACHE_DIRTY a */'],
    ['backslashes in a string', () => "'" + '\\'.repeat(MB)],
    ['comment openers', () => '/*'.repeat(MB / 2) + 'MEMCACHE_DIRTY'],
    ['executable openers', () => '/*!'.repeat(MB / 3) + "'MEMCACHE_DIRTY"],
    ['keyword soup', () => 'MEMCACHE_DIRTY '.repeat(MB / 15)],
    ['many annotations', () => '/* MEMCACHE_DIRTY a */'.repeat(MB / 22)],
    ['one huge key list', () => '/* MEMCACHE_DIRTY ' + 'a,'.repeat(MB / 2) + ' */'],
    ['one huge key', () => '/* MEMCACHE_DIRTY ' + '%41'.repeat(MB / 3) + ' */'],
    ['one huge field', () => '/* MEMCACHE_DIRTY a ts=' + '1'.repeat(MB) + ' */'],
    ['whitespace', () => '/* MEMCACHE_DIRTY' + ' '.repeat(MB) + '*/'],
    ['line comments', () => '-- MEMCACHE_DIRTY x\n'.repeat(MB / 20)],
    ['unterminated comment', () => '/* MEMCACHE_DIRTY ' + 'a,'.repeat(MB / 2)],
  ];
  it.each(cases)('%s', (_name, make) => {
    const text = make();
    const result = extractAnnotations(text);
    expect(Array.isArray(result.keys)).toBe(true);
  });

  it('gives the expected answers on the big inputs', () => {
    expect(extractAnnotations('/* MEMCACHE_DIRTY a */'.repeat(MB / 22)).keys).toEqual(['a']);
    expect(extractAnnotations('/* MEMCACHE_DIRTY ' + 'a,'.repeat(MB / 2) + ' */').keys).toEqual(['a']);
    expect(extractAnnotations("'".repeat(MB) + '/* MEMCACHE_DIRTY a */').keys).toEqual(['a']);
    expect(extractAnnotations("'".repeat(MB + 1) + '/* MEMCACHE_DIRTY a */').keys).toEqual([]);
  });
});
