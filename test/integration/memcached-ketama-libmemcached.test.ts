/**
 * Re-derives the committed ketama golden vectors from the real libmemcached (a C program built with gcc
 * in a temp dir), so the JSON file cannot drift from what it claims to be. Needs `gcc`, `pkg-config` and
 * `libmemcached-dev`; without them the test is skipped and says why (the unit test still checks our
 * implementation against the committed vectors).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CASES,
  goldenKeys,
  libmemcachedVersion,
  runLibmemcached,
  VECTORS_FILE,
  type KetamaVectors,
} from '../unit/sinks/golden/generate-ketama.js';

const toolchain =
  spawnSync('gcc', ['--version']).status === 0 &&
  spawnSync('pkg-config', ['--exists', 'libmemcached']).status === 0;
if (!toolchain) {
  console.warn('memcached-ketama-libmemcached: skipped — apt-get install gcc pkg-config libmemcached-dev');
}

describe.skipIf(!toolchain)('ketama golden vectors vs the installed libmemcached', () => {
  it('the committed vectors are exactly what libmemcached computes', () => {
    const committed = JSON.parse(readFileSync(VECTORS_FILE, 'utf8')) as KetamaVectors;
    const keys = goldenKeys();
    expect(committed.keys).toEqual(keys);
    expect(committed.cases.map((c) => ({ name: c.name, servers: c.servers }))).toEqual(CASES);
    const live = runLibmemcached(CASES, keys);
    expect({ version: libmemcachedVersion(), expected: live }).toEqual({
      version: committed.libmemcached,
      expected: committed.cases.map((c) => c.expected),
    });
  });
});
