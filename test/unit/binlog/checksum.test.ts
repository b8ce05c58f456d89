import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { buildFormatDescription, buildQuery } from '../../helpers/binlog/index.js';
import { crc32 as ourCrc32, eventCrc32, hasValidCrc32, storedCrc32 } from '../../../src/binlog/checksum.js';

/** Deterministic pseudo-random bytes. */
function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    b[i] = s >>> 24;
  }
  return b;
}

function withCrc(body: Buffer): Buffer {
  const crc = Buffer.alloc(4);
  crc.writeUInt32LE(crc32(body));
  return Buffer.concat([body, crc]);
}

describe('hasValidCrc32 (one pass over event + CRC, against the CRC32 residue)', () => {
  it('agrees with computing the CRC and comparing it to the stored one', () => {
    for (let n = 19; n < 600; n += 7) {
      const good = withCrc(bytes(n, n));
      expect(hasValidCrc32(good, false)).toBe(true);
      expect(eventCrc32(good, false)).toBe(storedCrc32(good));
      for (const at of [0, 9, n - 1, n, n + 3]) {
        const bad = Buffer.from(good);
        bad[at] ^= 1 << (at % 8);
        expect(hasValidCrc32(bad, false)).toBe(false);
        expect(eventCrc32(bad, false) === storedCrc32(bad)).toBe(false);
      }
    }
  });

  it('accepts a real event and an FDE whose IN_USE flag was set after its CRC was computed', () => {
    expect(hasValidCrc32(buildQuery({ sql: 'BEGIN' }), false)).toBe(true);
    const fde = buildFormatDescription();
    fde[17] |= 0x01;
    expect(hasValidCrc32(fde, true)).toBe(true);
    expect(hasValidCrc32(fde, false)).toBe(false);
  });
});

describe('crc32 (slice-by-8 for short runs, zlib for long ones)', () => {
  it('agrees with zlib for every length around the switch, at any offset, continuing any CRC', () => {
    const data = bytes(5000, 42);
    for (let n = 0; n <= 600; n++) {
      for (const start of [0, 1, 3, 8, 13]) {
        const expected = crc32(data.subarray(start, start + n));
        expect(ourCrc32(data, start, start + n)).toBe(expected);
        const prior = crc32(data.subarray(4000, 4000 + (n % 37)));
        expect(ourCrc32(data, start, start + n, prior)).toBe(crc32(data.subarray(start, start + n), prior));
      }
    }
    expect(ourCrc32(data)).toBe(crc32(data));
    expect(ourCrc32(Buffer.alloc(0))).toBe(0);
  });
});
