/**
 * Regenerates ketama-libmemcached.json from the real libmemcached (Debian: `apt-get install
 * libmemcached-dev gcc pkg-config`):
 *
 *   npx tsx test/unit/sinks/golden/generate-ketama.ts
 *
 * Compiles ketama-libmemcached.c in a temporary directory, feeds it each case's servers and the shared
 * key list, and writes the server index libmemcached's memcached_generate_hash() chose for every key.
 * test/integration/memcached-ketama-libmemcached.test.ts re-runs this and compares with the committed file.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface GoldenServer {
  host: string;
  port: number;
  weight: number;
}

export interface GoldenCase {
  name: string;
  servers: GoldenServer[];
}

export interface KetamaVectors {
  generator: string;
  libmemcached: string;
  keys: string[];
  cases: (GoldenCase & { expected: number[] })[];
}

const here = dirname(fileURLToPath(import.meta.url));
export const VECTORS_FILE = join(here, 'ketama-libmemcached.json');

const s = (host: string, port: number, weight = 1): GoldenServer => ({ host, port, weight });

export const CASES: GoldenCase[] = [
  { name: '1 server', servers: [s('127.0.0.1', 11211)] },
  { name: '2 servers', servers: [s('127.0.0.1', 11211), s('127.0.0.1', 11212)] },
  {
    name: '3 servers on port 11211 (point strings leave the port out)',
    servers: [s('10.0.0.1', 11211), s('10.0.0.2', 11211), s('10.0.0.3', 11211)],
  },
  {
    name: '3 servers on one host, non-default ports',
    servers: [s('127.0.0.1', 21211), s('127.0.0.1', 21212), s('127.0.0.1', 21213)],
  },
  {
    name: 'host names, mixed ports',
    servers: [s('cache-a.example.com', 11211), s('cache-b.example.com', 11212), s('10.1.2.3', 22122)],
  },
  {
    name: 'weights 1/2/3',
    servers: [s('10.0.0.1', 11211, 1), s('10.0.0.2', 11211, 2), s('10.0.0.3', 11211, 3)],
  },
  {
    name: 'weights 100/250/50/600',
    servers: [s('mc1', 11211, 100), s('mc2', 11211, 250), s('mc3', 11211, 50), s('mc4', 11211, 600)],
  },
  {
    // libmemcached's single-precision maths gives the weight-1 servers 7 digests (28 points) each;
    // the same formula in doubles (hashring) gives 8. The vectors pin libmemcached's answer.
    name: 'weights 11/11/1/1/1 (float rounding)',
    servers: [s('a', 11211, 11), s('b', 11211, 11), s('c', 11211, 1), s('d', 11211, 1), s('e', 11211, 1)],
  },
  {
    name: '10 servers',
    servers: Array.from({ length: 10 }, (_, i) => s(`10.0.1.${i + 1}`, 11211 + (i % 3))),
  },
];

/** Keys chosen to cover ASCII, percent-encoded, multi-byte UTF-8 and the 250-byte maximum. */
export function goldenKeys(): string[] {
  const keys: string[] = [];
  for (let i = 0; i < 400; i++) keys.push(`user:${i}`);
  for (let i = 0; i < 50; i++) keys.push(`post:${i * 7919}:comments:page:${i % 5}`);
  keys.push(
    'a',
    'Z',
    '0',
    'user%3A1',
    'ünïcødé:ключ',
    '日本語キー',
    '😀:emoji',
    'x'.repeat(250),
    'k'.repeat(125),
  );
  return keys;
}

/** Builds the C program and returns libmemcached's index for every key, per case. */
export function runLibmemcached(cases: readonly GoldenCase[], keys: readonly string[]): number[][] {
  const dir = mkdtempSync(join(tmpdir(), 'cachetail-ketama-'));
  try {
    const bin = join(dir, 'ketama');
    const flags = spawnSync('pkg-config', ['--cflags', '--libs', 'libmemcached'], { encoding: 'utf8' });
    if (flags.status !== 0) throw new Error(`pkg-config libmemcached failed: ${flags.stderr}`);
    const cc = spawnSync(
      'gcc',
      ['-O2', '-Wall', '-o', bin, join(here, 'ketama-libmemcached.c'), ...flags.stdout.trim().split(/\s+/)],
      { encoding: 'utf8' },
    );
    if (cc.status !== 0) throw new Error(`gcc failed: ${cc.stderr}`);
    return cases.map((c) => {
      const input = [
        String(c.servers.length),
        ...c.servers.map((x) => `${x.host} ${x.port} ${x.weight}`),
        ...keys,
      ]
        .map((line) => `${line}\n`)
        .join('');
      const run = spawnSync(bin, [], { input, encoding: 'utf8' });
      if (run.status !== 0) throw new Error(`ketama helper exited ${run.status}: ${run.stderr}`);
      const out = run.stdout.trim().split('\n').map(Number);
      if (out.length !== keys.length) throw new Error(`expected ${keys.length} answers, got ${out.length}`);
      return out;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function libmemcachedVersion(): string {
  const v = spawnSync('pkg-config', ['--modversion', 'libmemcached'], { encoding: 'utf8' });
  return v.status === 0 ? v.stdout.trim() : 'unknown';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const keys = goldenKeys();
  const results = runLibmemcached(CASES, keys);
  const vectors: KetamaVectors = {
    generator: 'npx tsx test/unit/sinks/golden/generate-ketama.ts (builds ketama-libmemcached.c)',
    libmemcached: libmemcachedVersion(),
    keys,
    cases: CASES.map((c, i) => ({ ...c, expected: results[i] })),
  };
  writeFileSync(VECTORS_FILE, `${JSON.stringify(vectors)}\n`);
  spawnSync('npx', ['prettier', '--write', VECTORS_FILE], { stdio: 'inherit' });
  console.log(`wrote ${VECTORS_FILE}: ${CASES.length} cases × ${keys.length} keys`);
}
