/**
 * jsonSyntaxError: the first syntax error of a config file as line:column and a reason of our own
 * wording (stable across Node versions, never quoting the text), and none for what JSON.parse accepts.
 */
import { describe, expect, it } from 'vitest';
import { jsonSyntaxError } from '../../../src/config/json-syntax.js';

describe('jsonSyntaxError', () => {
  it('finds nothing in valid JSON', () => {
    for (const text of [
      '{}',
      ' [ ] ',
      '{"a":[1,-0.5e+3,true,false,null,"x\\n\\u00e9\\"",{}],"b":{"c":""}}\n',
      '"top"',
      '0',
    ]) {
      expect(JSON.parse(text)).toBeDefined();
      expect(jsonSyntaxError(text)).toBeUndefined();
    }
  });

  it('names the place and the reason of each kind of error', () => {
    const cases: [string, string][] = [
      ['', '1:1 unexpected end of file, expected a value'],
      ['{\n  "a": 1\n  "b": 2\n}', "3:3 expected ',' or '}' after a property value"],
      ['{"a" 1}', "1:6 expected ':' after the property name"],
      ["{'a': 1}", '1:2 expected a property name in double quotes'],
      ['{a: 1}', '1:2 expected a property name in double quotes'],
      ['{"a": [1, 2,]}', "1:12 trailing comma before ']' (JSON allows none)"],
      ['{"a": 1,\n}', "1:8 trailing comma before '}' (JSON allows none)"],
      ['[1 2]', "1:4 expected ',' or ']' after an array element"],
      ['{"a": "b', '1:7 unterminated string'],
      [
        '{"a": "b\tc"}',
        '1:9 unescaped control character in a string (a line break or tab must be written \\n or \\t)',
      ],
      ['{"a": "\\x"}', '1:8 invalid escape in a string'],
      ['{"a": -}', '1:7 invalid number'],
      ['{"a": 01}', "1:8 expected ',' or '}' after a property value"],
      ['{"a": True}', "1:7 unexpected 'T', expected a value"],
      ['{"a": 1} // note', "1:10 unexpected '/' after the JSON value"],
      ['\u00a0{}', '1:1 unexpected U+00A0, expected a value'],
    ];
    for (const [text, expected] of cases) {
      expect(() => void JSON.parse(text), text).toThrow(SyntaxError);
      const e = jsonSyntaxError(text);
      expect(e && `${e.line}:${e.column} ${e.reason}`, text).toBe(expected);
    }
  });
});
