/**
 * Consistent hashing exactly as libmemcached does it with MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED (also what
 * php-memcached's OPT_LIBKETAMA_COMPATIBLE and pylibmc's `ketama_weighted` behaviour turn on), checked
 * against libmemcached 1.1.4 by golden vectors (test/unit/sinks/golden/). Source:
 * libmemcached `src/libmemcached/hosts.cc` update_continuum() and `hash.cc` dispatch_host().
 *
 * Continuum: for server s with weight w (total weight W over n servers),
 *   points(s) = floor(float(w / W) * 160 / 4 * n + 1e-10) * 4          (single-precision float maths)
 * made of points(s)/4 MD5 digests of the string
 *   "<host>-<i>"         when the port is 11211 (libmemcached leaves the default port out),
 *   "<host>:<port>-<i>"  otherwise,                                     i = 0 .. points(s)/4 - 1,
 * each digest giving 4 points: bytes [4a..4a+3] read little-endian, a = 0..3. Host is the name exactly as
 * configured (never resolved). Points are sorted by value, ties by server position.
 * Key: MD5 of the key's UTF-8 bytes, bytes 0..3 little-endian; the server is the first point >= hash,
 * wrapping to the first point. One server: always that server.
 *
 * The node `memcached` client (3rd-Eden, via `hashring` 3.x with its default `compatibility: 'ketama'`,
 * which sets `default port: 11211`) builds the same ring; its weight arithmetic is in doubles, so exotic
 * weight ratios could round differently — the unit test compares the two on the vectors' weight sets.
 * Not matched: plain MEMCACHED_BEHAVIOR_KETAMA (unweighted: 100 points per server, one point per digest,
 * one-at-a-time hash unless changed), MEMCACHED_BEHAVIOR_SORT_HOSTS, namespaces hashed with the key
 * (MEMCACHED_BEHAVIOR_HASH_WITH_NAMESPACE) and auto-ejection of failed servers.
 */
import { createHash } from 'node:crypto';
import { CachetailError } from '../../errors.js';

export interface KetamaServer {
  host: string;
  port: number;
  /** libmemcached treats 0 as 1; we require >= 1. */
  weight: number;
}

const POINTS_PER_SERVER = 160;
const DEFAULT_PORT = 11211;

function md5(data: string): Buffer {
  return createHash('md5').update(data, 'utf8').digest();
}

/** Sorted continuum: `values[i]` is a point, `owners[i]` the index of the server that owns it. */
export class KetamaContinuum {
  private readonly values: Uint32Array;
  private readonly owners: Uint16Array;
  readonly serverCount: number;

  constructor(servers: readonly KetamaServer[]) {
    if (servers.length === 0) throw new CachetailError('CONFIG_INVALID', 'ketama: no servers');
    if (servers.length > 0xffff) throw new CachetailError('CONFIG_INVALID', 'ketama: too many servers');
    this.serverCount = servers.length;
    const total = servers.reduce((sum, s) => sum + s.weight, 0);
    const points: { value: number; owner: number }[] = [];
    servers.forEach((s, owner) => {
      for (let i = 0; i < pointsFor(s.weight, total, servers.length) / 4; i++) {
        const digest = md5(s.port === DEFAULT_PORT ? `${s.host}-${i}` : `${s.host}:${s.port}-${i}`);
        for (let a = 0; a < 4; a++) points.push({ value: digest.readUInt32LE(a * 4), owner });
      }
    });
    // libmemcached's comparator: value, then server index (its qsort is then deterministic).
    points.sort((x, y) => x.value - y.value || x.owner - y.owner);
    this.values = Uint32Array.from(points, (p) => p.value);
    this.owners = Uint16Array.from(points, (p) => p.owner);
  }

  /** Index of the server that owns `key`. */
  serverFor(key: string): number {
    if (this.serverCount === 1) return 0;
    return this.ownerOf(md5(key).readUInt32LE(0));
  }

  /** First point >= hash (lower bound), wrapping past the end — dispatch_host() in libmemcached. */
  ownerOf(hash: number): number {
    let left = 0;
    let right = this.values.length;
    while (left < right) {
      const middle = (left + right) >>> 1;
      if (this.values[middle] < hash) left = middle + 1;
      else right = middle;
    }
    return this.owners[right === this.values.length ? 0 : right];
  }

  /** Number of points each server owns (for tests and the status page). */
  pointsPerServer(): number[] {
    const counts = new Array<number>(this.serverCount).fill(0);
    for (const owner of this.owners) counts[owner] = counts[owner] + 1;
    return counts;
  }
}

/**
 * Points for one server, with libmemcached's float (not double) arithmetic: `pct` and every product are
 * rounded to single precision as the C code does, so weights land on exactly the same point counts.
 */
export function pointsFor(weight: number, totalWeight: number, liveServers: number): number {
  const f = Math.fround;
  const pct = f(f(weight) / f(totalWeight));
  const scaled = f(f(f(f(pct * POINTS_PER_SERVER) / 4) * f(liveServers)) + f(0.0000000001));
  return Math.floor(scaled) * 4;
}
