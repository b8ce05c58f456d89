import { describe, expect, it } from 'vitest';
import { scanSql, type LexOptions } from '../../../src/annotate/index.js';

function regions(sql: string, opts: LexOptions = {}): [string, string, boolean][] {
  const out: [string, string, boolean][] = [];
  scanSql(sql, opts, (kind, start, end, terminated) => out.push([kind, sql.slice(start, end), terminated]));
  return out;
}

describe('scanSql', () => {
  it.each<[string, [string, string, boolean][]]>([
    ["a 'b' c", [['string', "'b'", true]]],
    [
      `'a\\'b' "c""d"`,
      [
        ['string', `'a\\'b'`, true],
        ['string', '"c""d"', true],
      ],
    ],
    ["'a''b'", [['string', "'a''b'", true]]],
    [
      '`a``b`.`c`',
      [
        ['identifier', '`a``b`', true],
        ['identifier', '`c`', true],
      ],
    ],
    ['`a\\`', [['identifier', '`a\\`', true]]],
    ['x # c\ny', [['line-comment', '# c', true]]],
    ['x -- c\r\ny', [['line-comment', '-- c\r', true]]],
    ['x --\ty', [['line-comment', '--\ty', true]]],
    ['x --', [['line-comment', '--', true]]],
    ['x --y -1', []],
    ['a /* b */ c', [['comment', '/* b */', true]]],
    ['/**/', [['comment', '/**/', true]]],
    ['/*/ x */', [['comment', '/*/ x */', true]]],
    ['/* a /* b */ c */', [['comment', '/* a /* b */', true]]],
    ['/*+ BKA(t) */', [['hint', '/*+ BKA(t) */', true]]],
    ["/*!40101 SET a='*/' */;", [['executable', "/*!40101 SET a='*/' */", true]]],
    ['/*M!100100 x /* y */ z */ w', [['executable', '/*M!100100 x /* y */ z */', true]]],
    ['/*M x */', [['comment', '/*M x */', true]]],
    ["a 'b", [['string', "'b", false]]],
    ['a /* b', [['comment', '/* b', false]]],
    ["/*! 'a */", [['executable', "/*! 'a */", false]]],
    [
      "'a' /* b */ 'c",
      [
        ['string', "'a'", true],
        ['comment', '/* b */', true],
        ['string', "'c", false],
      ],
    ],
  ])('%j', (sql, expected) => {
    expect(regions(sql)).toEqual(expected);
  });

  it('follows sql_mode', () => {
    expect(regions("'a\\' 'b'", { noBackslashEscapes: true })).toEqual([
      ['string', "'a\\'", true],
      ['string', "'b'", true],
    ]);
    expect(regions('"a\\" x', { ansiQuotes: true })).toEqual([['identifier', '"a\\"', true]]);
    expect(regions('"a\\" x')).toEqual([['string', '"a\\" x', false]]);
  });

  it('MySQL has no slash-star-M-bang executable comment: there it is a plain comment', () => {
    const sql = "/*M!100100 it's */ x";
    expect(regions(sql, { mysql: true })).toEqual([['comment', "/*M!100100 it's */", true]]);
    expect(regions(sql)).toEqual([['executable', sql, false]]);
    // slash-star-bang stays executable on MySQL.
    expect(regions("/*!80000 SET a='*/' */ b", { mysql: true })).toEqual([
      ['executable', "/*!80000 SET a='*/' */", true],
    ]);
  });
});
