import { describe, expect, it } from 'vitest';
import { extractAnnotations } from '../../../src/annotate/index.js';
import { decodeKeyToken } from '../../../src/annotate/key.js';

type Row = [sql: string, keys: string[], rejected: [reason: string, text: string][]];

const check = ([sql, keys, rejected]: Row): void => {
  const result = extractAnnotations(sql);
  expect(result.keys).toEqual(keys);
  expect(result.rejected.map((r) => [r.reason, r.text])).toEqual(rejected);
};

describe('malformed annotations: valid keys kept, the rest reported', () => {
  it.each<Row>([
    ['/* MEMCACHE_DIRTY */', [], [['missing-keylist', '/* MEMCACHE_DIRTY */']]],
    ['/* MEMCACHE_DIRTY*/', [], [['missing-keylist', '/* MEMCACHE_DIRTY*/']]],
    ['/* MEMCACHE_DIRTY \n\t */', [], [['missing-keylist', '/* MEMCACHE_DIRTY \n\t */']]],
    ['/* MEMCACHE_DIRTY a,,b */', ['a', 'b'], [['empty-key', '']]],
    ['/* MEMCACHE_DIRTY a, */', ['a'], [['empty-key', '']]],
    ['/* MEMCACHE_DIRTY ,a */', ['a'], [['empty-key', '']]],
    ['/* MEMCACHE_DIRTY a,b%,c */', ['a', 'c'], [['bad-escape', 'b%']]],
    ['/* MEMCACHE_DIRTY a,%FF,c */', ['a', 'c'], [['invalid-utf8', '%FF']]],
    ['/* MEMCACHE_DIRTY a,b%20c */', ['a'], [['forbidden-byte', 'b%20c']]],
    ['/* MEMCACHE_DIRTY a,b\x01c */', ['a'], [['forbidden-byte', 'b\x01c']]],
    [`/* MEMCACHE_DIRTY a,${'x'.repeat(251)} */`, ['a'], [['key-too-long', 'x'.repeat(200)]]],
    // Position decides: the first token is the key list even when it looks like a field.
    ['/* MEMCACHE_DIRTY ts=1 */', ['ts=1'], []],
    // "a, b": a comma next to whitespace continues the list.
    ['/* MEMCACHE_DIRTY a, b */', ['a', 'b'], [['keylist-whitespace', 'a, b']]],
    ['/* MEMCACHE_DIRTY a ,b */', ['a', 'b'], [['keylist-whitespace', 'a ,b']]],
    ['/* MEMCACHE_DIRTY a , b,c ts=5 */', ['a', 'b', 'c'], [['keylist-whitespace', 'a , b,c']]],
    // A bare token after the list is not a field and not unambiguously a key.
    ['/* MEMCACHE_DIRTY a b */', ['a'], [['malformed-field', 'b']]],
    [
      '/* MEMCACHE_DIRTY a MEMCACHE_DIRTY b */',
      ['a'],
      [
        ['malformed-field', 'MEMCACHE_DIRTY'],
        ['malformed-field', 'b'],
      ],
    ],
    [
      '/* MEMCACHE_DIRTY a Ts=1 =1 1x=2 */',
      ['a'],
      [
        ['malformed-field', 'Ts=1'],
        ['malformed-field', '=1'],
        ['malformed-field', '1x=2'],
      ],
    ],
    ['/* MEMCACHE_DIRTY a ts=soon */', ['a'], [['bad-field-value', 'ts=soon']]],
    ['/* MEMCACHE_DIRTY a ts= */', ['a'], [['bad-field-value', 'ts=']]],
    ['/* MEMCACHE_DIRTY a ts=-1 */', ['a'], [['bad-field-value', 'ts=-1']]],
    ['/* MEMCACHE_DIRTY a ts=99999999999999999 */', ['a'], [['bad-field-value', 'ts=99999999999999999']]],
    ['/* MEMCACHE_DIRTY a ts=%ZZ */', ['a'], [['bad-field-value', 'ts=%ZZ']]],
    ['/* MEMCACHE_DIRTY a ts=1 ts=2 */', ['a'], [['duplicate-field', 'ts=2']]],
    [
      '/* MEMCACHE_DIRTY a region=eu lag_ms=5 */',
      ['a'],
      [
        ['unknown-field', 'region=eu'],
        ['unknown-field', 'lag_ms=5'],
      ],
    ],
    ['/* MEMCACHE_DIRTY a v=1 */', ['a'], []],
    ['/* MEMCACHE_DIRTY a v=0 */', ['a'], [['bad-field-value', 'v=0']]],
    ['/* MEMCACHE_DIRTY a v=x ts=1 */', ['a'], [['bad-field-value', 'v=x']]],
    // A newer version still yields its keys; its fields may mean something else, so none are read.
    ['/* MEMCACHE_DIRTY a,b v=2 ts=1 shard=3 */', ['a', 'b'], [['unsupported-version', 'v=2']]],
  ])('%s', (...row) => check(row));

  it('reads ts and v, and only for version 1', () => {
    expect(extractAnnotations('/* MEMCACHE_DIRTY a ts=%31%32 v=1 */').annotations).toEqual([
      { start: 0, end: 36, version: 1, keys: ['a'], ts: 12 },
    ]);
    expect(extractAnnotations('/* MEMCACHE_DIRTY a ts=12 v=3 */').annotations).toEqual([
      { start: 0, end: 32, version: 3, keys: ['a'] },
    ]);
    expect(extractAnnotations('/* MEMCACHE_DIRTY a v=x */').annotations).toEqual([
      { start: 0, end: 26, version: null, keys: ['a'] },
    ]);
  });

  it('reports rejected keys with their offsets and a reason text', () => {
    expect(extractAnnotations('SELECT 1 /* MEMCACHE_DIRTY ok,b%2 */').rejected).toEqual([
      { reason: 'bad-escape', start: 30, text: 'b%2', detail: 'bad % escape at index 1' },
    ]);
  });

  it('keeps an annotation with no valid key (so the operator sees it) but yields nothing', () => {
    expect(extractAnnotations('/* MEMCACHE_DIRTY %20 */')).toEqual({
      keys: [],
      annotations: [{ start: 0, end: 24, version: 1, keys: [] }],
      rejected: [{ reason: 'forbidden-byte', start: 18, text: '%20', detail: expect.any(String) as string }],
    });
  });

  it('de-duplicates keys across annotations but not within one', () => {
    const result = extractAnnotations('/* MEMCACHE_DIRTY a,b,a */ /* MEMCACHE_DIRTY b,c */');
    expect(result.keys).toEqual(['a', 'b', 'c']);
    expect(result.annotations.map((a) => a.keys)).toEqual([
      ['a', 'b', 'a'],
      ['b', 'c'],
    ]);
  });
});

describe('plain keys (printable ASCII, no %) are taken as written', () => {
  // The key-list decoder takes a plain key without percent-decoding it; anything else goes through
  // decodeKeyToken. Both must give the same answer for every key, in string and in byte mode.
  const pieces = [
    'user:42',
    'x'.repeat(250),
    'x'.repeat(251),
    '~!@#$^&()_+-[]{}|;:<>.',
    'a%41b',
    'a%2',
    'a\x7fb',
    'a\x01b',
    'é',
    '\u{1F600}',
    '%FF',
  ];
  it.each(pieces)('%s', (piece) => {
    for (const byteMode of [false, true]) {
      const sql = `/* MEMCACHE_DIRTY k,${piece},z */`;
      const input = byteMode ? Buffer.from(sql, 'utf8') : sql;
      const decoded = decodeKeyToken(
        byteMode ? Buffer.from(piece, 'utf8').toString('latin1') : piece,
        byteMode,
      );
      const result = extractAnnotations(input);
      expect(result.keys).toEqual(decoded.ok ? ['k', decoded.key, 'z'] : ['k', 'z']);
      expect(result.rejected.map((r) => r.reason)).toEqual(decoded.ok ? [] : [decoded.reason]);
    }
  });
});

describe('keys of long statements', () => {
  it('are the same keys whether the statement is short or megabytes long', () => {
    const keys = ['user:1', 'post:2:comments', 'a%2Cb', 'team:9'];
    const comment = `/* MEMCACHE_DIRTY ${keys.join(',')} */`;
    const short = `INSERT INTO t VALUES (1) ${comment}`;
    const long = `INSERT INTO t VALUES ${Array.from({ length: 50_000 }, (_, i) => `(${i})`).join(',')} ${comment}`;
    const expected = ['user:1', 'post:2:comments', 'a,b', 'team:9'];
    expect(extractAnnotations(short).keys).toEqual(expected);
    expect(extractAnnotations(long).keys).toEqual(expected);
    expect(extractAnnotations(Buffer.from(long)).keys).toEqual(expected);
  });
});
