import { describe, expect, it } from 'vitest';
import {
  encodeGroup,
  keyBytesOk,
  ResponseReader,
  type ResponseHeader,
} from '../../../src/sinks/memcached/protocol.js';
import { TOMBSTONE_VALUE, isTombstone, TOMBSTONE_TEXT } from '../../../src/sinks/memcached/tombstone.js';

const hex = (b: Buffer) =>
  b
    .toString('hex')
    .replace(/(.{48})/g, '$1 ')
    .trim();
const zeros = (n: number) => '00'.repeat(n);

describe('binary protocol requests', () => {
  it('DELETEQ per key, then a NOOP with the next opaque', () => {
    const buf = encodeGroup({ kind: 'delete', keys: ['a', 'ü'] }, 7);
    expect(hex(buf)).toBe(
      [
        // magic op  keylen ext dt vb   body        opaque      cas
        '8014' + '0001' + '00' + '00' + '0000' + '00000001' + '00000007' + zeros(8) + '61',
        '8014' + '0002' + '00' + '00' + '0000' + '00000002' + '00000008' + zeros(8) + 'c3bc',
        '800a' + '0000' + '00' + '00' + '0000' + '00000000' + '00000009' + zeros(8),
      ]
        .join('')
        .replace(/(.{48})/g, '$1 ')
        .trim(),
    );
  });

  it('SETQ tombstone: flags, TTL extras, marker value', () => {
    const buf = encodeGroup(
      { kind: 'tombstone', keys: ['k'], value: TOMBSTONE_VALUE, flags: 0, ttlSeconds: 10 },
      0xffffffff,
    );
    const body = 8 + 1 + TOMBSTONE_VALUE.length;
    expect(buf.subarray(0, 24).toString('hex')).toBe(
      '8011' + '0001' + '08' + '00' + '0000' + body.toString(16).padStart(8, '0') + 'ffffffff' + zeros(8),
    );
    expect(buf.subarray(24, 32).toString('hex')).toBe('00000000' + '0000000a');
    expect(buf.subarray(32, 33).toString()).toBe('k');
    expect(buf.subarray(33, 33 + TOMBSTONE_VALUE.length)).toEqual(TOMBSTONE_VALUE);
    // The opaque wraps to 0 for the NOOP.
    expect(buf.subarray(33 + TOMBSTONE_VALUE.length).toString('hex')).toBe(
      '800a' + zeros(10) + '00000000' + zeros(8),
    );
  });

  it('FLUSHQ and a bare NOOP', () => {
    expect(encodeGroup({ kind: 'flush' }, 1).toString('hex')).toBe(
      '8018' + zeros(10) + '00000001' + zeros(8) + '800a' + zeros(10) + '00000002' + zeros(8),
    );
    expect(encodeGroup({ kind: 'noop' }, 5).toString('hex')).toBe('800a' + zeros(10) + '00000005' + zeros(8));
  });

  it('refuses keys memcached would reject (it closes the connection on them)', () => {
    expect(() => encodeGroup({ kind: 'delete', keys: ['x'.repeat(251)] }, 0)).toThrow(
      'memcached key of 251 bytes',
    );
    expect([
      keyBytesOk(''),
      keyBytesOk('x'.repeat(250)),
      keyBytesOk('x'.repeat(251)),
      keyBytesOk('€'.repeat(84)),
    ]).toEqual([false, true, false, false]);
  });
});

describe('response reader', () => {
  const response = (opcode: number, status: number, opaque: number, body = '') => {
    const b = Buffer.alloc(24 + body.length);
    b[0] = 0x81;
    b[1] = opcode;
    b.writeUInt16BE(status, 6);
    b.writeUInt32BE(body.length, 8);
    b.writeUInt32BE(opaque, 12);
    b.write(body, 24);
    return b;
  };

  it('splits responses across arbitrary chunk boundaries, skipping error bodies', () => {
    const stream = Buffer.concat([response(0x14, 1, 3, 'Not found'), response(0x0a, 0, 4)]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const seen: ResponseHeader[] = [];
      const reader = new ResponseReader();
      reader.push(stream.subarray(0, cut), (r) => seen.push(r));
      reader.push(stream.subarray(cut), (r) => seen.push(r));
      expect(seen).toEqual([
        { opcode: 0x14, status: 1, opaque: 3, bodyLength: 9 },
        { opcode: 0x0a, status: 0, opaque: 4, bodyLength: 0 },
      ]);
    }
  });

  it('throws on bytes that are not a response', () => {
    expect(() =>
      new ResponseReader().push(Buffer.from('VERSION 1.6\r\n'.padEnd(24)), () => undefined),
    ).toThrow('bad response magic 0x56');
  });
});

describe('tombstone marker', () => {
  it('is recognised as bytes and as text, nothing else is', () => {
    expect(TOMBSTONE_VALUE.toString('hex')).toBe(
      '00' + Buffer.from('cachetail:tombstone:v1').toString('hex') + '00',
    );
    expect(isTombstone(Buffer.from(TOMBSTONE_VALUE))).toBe(true);
    expect(isTombstone(new Uint8Array(TOMBSTONE_VALUE))).toBe(true);
    expect(isTombstone(TOMBSTONE_TEXT)).toBe(true);
    expect(isTombstone('cachetail:tombstone:v1')).toBe(false);
    expect(isTombstone(Buffer.concat([TOMBSTONE_VALUE, Buffer.from('x')]))).toBe(false);
    expect(isTombstone(null)).toBe(false);
    expect(isTombstone(undefined)).toBe(false);
  });
});
