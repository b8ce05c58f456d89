import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { memjsHash, memjsSelector } from '../../../src/sinks/memcached/hashing.js';
import { KetamaContinuum, pointsFor } from '../../../src/sinks/memcached/ketama.js';
import { createRouter, groupByServer, parseServer } from '../../../src/sinks/memcached/routing.js';
import { VECTORS_FILE, type KetamaVectors } from './golden/generate-ketama.js';
import { MEMJS_VECTORS_FILE, type MemjsVectors } from './golden/generate-memjs.js';

const require = createRequire(import.meta.url);
// memjs's own hash function (not exported from its package entry): the live reference.
const memjsUtils = require('memjs/lib/memjs/utils') as { hashCode(s: string): number };
// The ring of the node `memcached` client (3rd-Eden/memcached 2.x constructs it exactly like this).
type HashRingCtor = new (
  servers: Record<string, number>,
  algorithm: string,
  options: Record<string, unknown>,
) => { get(key: string): string; ring: { server: string }[] };
const HashRing = require('hashring') as HashRingCtor;

const ketamaVectors = JSON.parse(readFileSync(VECTORS_FILE, 'utf8')) as KetamaVectors;
const memjsVectors = JSON.parse(readFileSync(MEMJS_VECTORS_FILE, 'utf8')) as MemjsVectors;

describe('memjs key → server mapping', () => {
  const keys = ['user:1', 'user:2:name', 'team:9', '', 'ünïcødé:ключ', 'x'.repeat(250), 'a b', '😀'];

  it('matches memjs hashCode exactly', () => {
    for (const k of keys) expect(memjsHash(k)).toBe(memjsUtils.hashCode(k));
  });

  it(`golden vectors from memjs ${memjsVectors.memjs}`, () => {
    expect(memjsVectors.cases.map((c) => c.servers)).toEqual([1, 2, 3, 5, 10]);
    for (const c of memjsVectors.cases) {
      const select = memjsSelector(c.servers);
      expect(memjsVectors.keys.map(select)).toEqual(c.expected);
      // The committed vectors still describe the installed memjs.
      expect(memjsVectors.keys.map((k) => memjsUtils.hashCode(k) % c.servers)).toEqual(c.expected);
    }
  });

  it('the memjs router sends each key to exactly one server', () => {
    const router = createRouter('memjs', ['a:1', 'b:2', 'c:3'].map(parseServer));
    expect(['user:1', 'user:2', 'user:3', 'user:4'].map((k) => router.serversFor(k))).toEqual(
      ['user:1', 'user:2', 'user:3', 'user:4'].map((k) => [memjsUtils.hashCode(k) % 3]),
    );
  });
});

describe('ketama (libmemcached MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED)', () => {
  it(`golden vectors from libmemcached ${ketamaVectors.libmemcached}: ${ketamaVectors.cases.length} server sets`, () => {
    expect(ketamaVectors.keys.length).toBe(459);
    for (const c of ketamaVectors.cases) {
      const ring = new KetamaContinuum(c.servers);
      expect({ name: c.name, got: ketamaVectors.keys.map((k) => ring.serverFor(k)) }).toEqual({
        name: c.name,
        got: c.expected,
      });
    }
  });

  it('the vectors exercise every server of every multi-server set', () => {
    for (const c of ketamaVectors.cases) {
      expect(new Set(c.expected).size).toBe(c.servers.length);
    }
  });

  it('160 points per server when weights are equal; weights scale them with float rounding', () => {
    expect(new KetamaContinuum(ketamaVectors.cases[2].servers).pointsPerServer()).toEqual([160, 160, 160]);
    const weighted = ketamaVectors.cases.find((c) => c.name === 'weights 1/2/3')!;
    expect(new KetamaContinuum(weighted.servers).pointsPerServer()).toEqual([80, 160, 240]);
    // 11/11/1/1/1: single precision gives 7 digests (28 points), doubles would give 8.
    expect(pointsFor(1, 25, 5)).toBe(28);
    expect(Math.floor((1 / 25) * 40 * 5) * 4).toBe(32);
  });

  it('point strings leave out port 11211 and keep other ports', () => {
    const ring = (port: number) =>
      new KetamaContinuum([
        { host: 'h', port, weight: 1 },
        { host: 'i', port, weight: 1 },
      ]);
    const keys = ketamaVectors.keys;
    // Same hosts on 11211 and on 11212 must give different rings (the point strings differ).
    expect(keys.map((k) => ring(11211).serverFor(k))).not.toEqual(keys.map((k) => ring(11212).serverFor(k)));
  });

  it('binary search: lower bound with wrap-around', () => {
    const ring = new KetamaContinuum([
      { host: 'a', port: 1, weight: 1 },
      { host: 'b', port: 2, weight: 1 },
    ]);
    expect(ring.ownerOf(0xffffffff)).toBe(ring.ownerOf(0));
  });
});

describe('ketama compatibility with the node memcached client (hashring 3.2, compatibility "ketama")', () => {
  const ringFor = (servers: { host: string; port: number; weight: number }[]) =>
    new HashRing(Object.fromEntries(servers.map((s) => [`${s.host}:${s.port}`, s.weight])), 'md5', {
      compatibility: 'ketama',
      'default port': 11211,
    });

  it('same server for every golden key, except where weights hit float rounding', () => {
    const differing: Record<string, number> = {};
    for (const c of ketamaVectors.cases) {
      const ring = ringFor(c.servers);
      const index = new Map(c.servers.map((s, i) => [`${s.host}:${s.port}`, i]));
      const got = ketamaVectors.keys.map((k) => index.get(ring.get(k)));
      differing[c.name] = got.filter((g, i) => g !== c.expected[i]).length;
    }
    expect(differing).toEqual({
      '1 server': 0,
      '2 servers': 0,
      '3 servers on port 11211 (point strings leave the port out)': 0,
      '3 servers on one host, non-default ports': 0,
      'host names, mixed ports': 0,
      'weights 1/2/3': 0,
      'weights 100/250/50/600': 0,
      'weights 11/11/1/1/1 (float rounding)': 11,
      '10 servers': 0,
    });
  });
});

describe('broadcast and grouping', () => {
  const servers = ['a:1', 'b:2', 'c:3'].map(parseServer);

  it('broadcast sends every key to every server', () => {
    const router = createRouter('broadcast', servers);
    expect(groupByServer(['k1', 'k2', 'k1'], router, 3)).toEqual([
      ['k1', 'k2'],
      ['k1', 'k2'],
      ['k1', 'k2'],
    ]);
  });

  it('groups per server, de-duplicated, first-seen order', () => {
    const router = createRouter('memjs', servers);
    const keys = ['user:1', 'user:2', 'user:1', 'user:3', 'user:4', 'user:2', 'user:5'];
    const expected: string[][] = [[], [], []];
    for (const k of ['user:1', 'user:2', 'user:3', 'user:4', 'user:5'])
      expected[memjsUtils.hashCode(k) % 3].push(k);
    expect(groupByServer(keys, router, 3)).toEqual(expected);
  });

  it('rejects weights outside ketama and mismatched weight lists', () => {
    expect(() => createRouter('memjs', servers, [1, 2, 1])).toThrow('weights only apply to ketama hashing');
    expect(() => createRouter('ketama', servers, [1, 2])).toThrow('2 weights for 3 servers');
    expect(() => parseServer('nohost')).toThrow('expected host:port');
  });
});
