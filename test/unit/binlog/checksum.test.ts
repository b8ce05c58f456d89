import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { buildFormatDescription, buildQuery } from '../../../src/binlog/builder.js';
import { eventCrc32, hasValidCrc32, storedCrc32 } from '../../../src/binlog/checksum.js';

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
