/**
 * Regenerates memjs-vectors.json from memjs's own hash (memjs 1.x lib/memjs/utils.js `hashCode`, which
 * `Client#getServer` takes modulo the server count):
 *
 *   npx tsx test/unit/sinks/golden/generate-memjs.ts
 *
 * hashing.test.ts checks our `memjs` mode against the committed file and against the installed memjs.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { goldenKeys } from './generate-ketama.js';

export interface MemjsVectors {
  generator: string;
  memjs: string;
  keys: string[];
  /** server count → server index per key. */
  cases: { servers: number; expected: number[] }[];
}

const here = dirname(fileURLToPath(import.meta.url));
export const MEMJS_VECTORS_FILE = join(here, 'memjs-vectors.json');
export const SERVER_COUNTS = [1, 2, 3, 5, 10];

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const require = createRequire(import.meta.url);
  const utils = require('memjs/lib/memjs/utils') as { hashCode(s: string): number };
  const pkg = JSON.parse(readFileSync(require.resolve('memjs/package.json'), 'utf8')) as { version: string };
  const keys = goldenKeys();
  const vectors: MemjsVectors = {
    generator: 'npx tsx test/unit/sinks/golden/generate-memjs.ts',
    memjs: pkg.version,
    keys,
    cases: SERVER_COUNTS.map((n) => ({ servers: n, expected: keys.map((k) => utils.hashCode(k) % n) })),
  };
  writeFileSync(MEMJS_VECTORS_FILE, `${JSON.stringify(vectors)}\n`);
  spawnSync('npx', ['prettier', '--write', MEMJS_VECTORS_FILE], { stdio: 'inherit' });
  console.log(`wrote ${MEMJS_VECTORS_FILE}`);
}
