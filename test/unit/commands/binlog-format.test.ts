import { describe, expect, it } from 'vitest';
import { jsonLine } from '../../../src/binlog/format/json.js';
import { formatValue } from '../../../src/binlog/format/rows.js';
import { StringValue } from '../../../src/binlog/rows/values.js';

describe('row values as text', () => {
  it('scalars, NULL, absent', () => {
    expect(
      [null, undefined, -5, 18446744073709551615n, '-12.50', '2024-02-29 12:34:56.5'].map(formatValue),
    ).toEqual(['NULL', '-', '-5', '18446744073709551615', '"-12.50"', '"2024-02-29 12:34:56.5"']);
    expect(formatValue(['x', 'z'])).toBe('["x","z"]');
  });

  it('text is JSON-quoted; binary or invalid UTF-8 is hex; long values are cut with their size', () => {
    expect(formatValue(new StringValue(Buffer.from('line\n"ü" 😀')))).toBe('"line\\n\\"ü\\" 😀"');
    expect(formatValue(new StringValue(Buffer.from([0xde, 0xad, 0xbe, 0xef])))).toBe('0xdeadbeef');
    expect(formatValue(new StringValue(Buffer.from('abc'), true))).toBe('0x616263');
    expect(formatValue(new StringValue(Buffer.from([0xe9]), false, 'latin1'))).toBe('"é"');
    expect(formatValue(new StringValue(Buffer.alloc(17 << 20, 'a')))).toBe(
      `"${'a'.repeat(200)}"…(${17 << 20} bytes)`,
    );
    expect(formatValue(new StringValue(Buffer.alloc(100, 0xff)))).toBe(`0x${'ff'.repeat(64)}…(100 bytes)`);
  });

  it('JSON documents, JSON diffs and raw values', () => {
    expect(formatValue({ kind: 'json', value: { a: [1, 2n ** 60n] } })).toBe(
      'json:{"a":[1,"1152921504606846976"]}',
    );
    expect(formatValue({ kind: 'json_diff', diffs: [{ operation: 'remove', path: '$.a' }] })).toBe(
      'json_diff:[{"operation":"remove","path":"$.a"}]',
    );
    expect(formatValue({ kind: 'raw', type: 255, raw: Buffer.from([1, 2]) })).toBe('raw(type 255) 0x0102');
  });
});

describe('JSON lines', () => {
  it('bigints as strings, buffers as hex, string columns as text or {hex}', () => {
    const line = jsonLine({
      n: 2n ** 64n - 1n,
      b: Buffer.from([0, 255]),
      u: new Uint8Array([1, 2]),
      text: new StringValue(Buffer.from('ü')),
      bin: new StringValue(Buffer.from([0xff]), false),
      blob: new StringValue(Buffer.from('x'), true),
    });
    expect(JSON.parse(line)).toEqual({
      n: '18446744073709551615',
      b: '00ff',
      u: '0102',
      text: 'ü',
      bin: { hex: 'ff' },
      blob: { hex: '78' },
    });
  });
});
