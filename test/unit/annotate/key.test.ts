import { describe, expect, it } from 'vitest';
import { AnnotationError, decodeKey, encodeKey, validateKey } from '../../../src/annotate/index.js';
import { thrown } from './helpers.js';

describe('encodeKey', () => {
  it.each([
    ['user:42:profile', 'user:42:profile'],
    ['a,b', 'a%2Cb'],
    ['x*/y', 'x%2A%2Fy'],
    ['100%', '100%25'],
    ['k=v', 'k%3Dv'],
    ['ü', '%C3%BC'],
    ['😀', '%F0%9F%98%80'],
    [`q?'"\`\\`, 'q%3F%27%22%60%5C'],
    ['a-b_c.d~!@#$^&()[]{}|<>+;:', 'a-b_c.d~!@#$^&()[]{}|<>+;:'],
  ])('%j -> %j', (key, wire) => {
    expect(encodeKey(key)).toBe(wire);
    expect(decodeKey(wire)).toEqual({ ok: true, key });
  });

  it.each([
    ['', 'empty-key'],
    ['a b', 'forbidden-byte'],
    ['a\nb', 'forbidden-byte'],
    ['a\x7fb', 'forbidden-byte'],
    ['x'.repeat(251), 'key-too-long'],
    ['é'.repeat(126), 'key-too-long'],
    ['a\ud800', 'invalid-utf8'],
    ['\udc00a', 'invalid-utf8'],
  ])('throws a typed error for %j (%s)', (key, reason) => {
    expect(validateKey(key)).toBe(reason);
    const error = thrown(() => encodeKey(key));
    expect(error).toBeInstanceOf(AnnotationError);
    expect(error).toMatchObject({ code: 'ANNOTATION_INVALID_KEY', retryable: false });
  });

  it('accepts exactly 250 bytes', () => {
    expect(validateKey('x'.repeat(250))).toBeNull();
    expect(validateKey('é'.repeat(125))).toBeNull();
    expect(validateKey('😀'.repeat(62) + 'ab')).toBeNull();
  });
});

describe('decodeKey', () => {
  it.each([
    ['%c3%bc', 'ü'],
    ['%C3%bC', 'ü'],
    ['ü', 'ü'], // raw non-ASCII is accepted when the result is a valid key
    ['a=b', 'a=b'],
    ['%EF%BB%BFa', '\ufeffa'], // a leading BOM is part of the key, not eaten by the decoder
    ['😀', '😀'],
    ['%2A%2F', '*/'],
  ])('%j -> %j', (wire, key) => {
    expect(decodeKey(wire)).toEqual({ ok: true, key });
  });

  it.each([
    ['', 'empty-key'],
    ['%', 'bad-escape'],
    ['a%2', 'bad-escape'],
    ['%zz', 'bad-escape'],
    ['%%41', 'bad-escape'],
    ['%FF', 'invalid-utf8'],
    ['%C3', 'invalid-utf8'],
    ['%C0%AF', 'invalid-utf8'], // overlong "/"
    ['%ED%A0%80', 'invalid-utf8'], // encoded surrogate
    ['%F4%90%80%80', 'invalid-utf8'], // above U+10FFFF
    ['\ud800', 'invalid-utf8'],
    ['%20', 'forbidden-byte'],
    ['a%00', 'forbidden-byte'],
    ['%7F', 'forbidden-byte'],
    ['%09', 'forbidden-byte'],
    ['x'.repeat(251), 'key-too-long'],
    ['%41'.repeat(251), 'key-too-long'],
  ])('rejects %j with %s', (wire, reason) => {
    const decoded = decodeKey(wire);
    expect(decoded.ok).toBe(false);
    expect(decoded).toMatchObject({ reason });
  });

  it('accepts 250 encoded bytes', () => {
    expect(decodeKey('%41'.repeat(250))).toEqual({ ok: true, key: 'A'.repeat(250) });
  });
});
