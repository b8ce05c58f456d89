import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { memjsHash, memjsSelector } from '../../../src/sinks/memcached/hashing.js';

// memjs's own hash function (not exported from its package entry): the golden reference.
const require = createRequire(import.meta.url);
const memjsUtils = require('memjs/lib/memjs/utils') as { hashCode(s: string): number };

describe('memjs key → server mapping', () => {
  const keys = ['user:1', 'user:2:name', 'team:9', '', 'ünïcødé:ключ', 'x'.repeat(250), 'a b', '😀'];

  it('matches memjs hashCode exactly', () => {
    for (const k of keys) expect(memjsHash(k)).toBe(memjsUtils.hashCode(k));
  });

  it('golden vectors for 3 servers', () => {
    const select = memjsSelector(3);
    expect(keys.map(select)).toEqual(keys.map((k) => memjsUtils.hashCode(k) % 3));
    expect(['user:1', 'user:2', 'user:3', 'user:4'].map(select)).toEqual([
      memjsUtils.hashCode('user:1') % 3,
      memjsUtils.hashCode('user:2') % 3,
      memjsUtils.hashCode('user:3') % 3,
      memjsUtils.hashCode('user:4') % 3,
    ]);
  });
});
