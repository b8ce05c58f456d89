/**
 * Key → server(s), one small unit per hashing mode, built from config by `createRouter` (the mcrouter
 * shape). The mapping must be the application client's own, or a delete lands on a server that never
 * held the key:
 *  - `memjs`: memjs 1.x `Client#getServer` — Java string hash over UTF-16 units, modulo server count
 *    (hashing.ts). Matches memjs with its default `getServer` and `failover: false`.
 *  - `ketama`: libmemcached MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, with weights (ketama.ts); also the node
 *    `memcached` client (hashring, `compatibility: 'ketama'`), php-memcached OPT_LIBKETAMA_COMPATIBLE,
 *    pylibmc `ketama_weighted`.
 *  - `broadcast`: every key to every server, for clients whose mapping we cannot reproduce.
 * Client-side failover (memjs `failover`, libmemcached auto-eject) moves keys to other servers while one
 * is down; no static mapping can follow that — use `broadcast` with such clients.
 */
import { parseHostPort } from '../host-port.js';
import { CachetailError } from '../../errors.js';
import { memjsSelector } from './hashing.js';
import { KetamaContinuum } from './ketama.js';

export type HashingMode = 'memjs' | 'ketama' | 'broadcast';

export interface ServerAddress {
  /** As configured, `host:port`: also the identity used for journals and logs. */
  address: string;
  host: string;
  port: number;
}

export interface Router {
  readonly mode: HashingMode;
  /** Server indices that must receive `key`'s delete. */
  serversFor(key: string): readonly number[];
}

/** The config schema validates the same way (hostPortSchema): this throws only for a caller that skipped it. */
export function parseServer(address: string): ServerAddress {
  const parsed = parseHostPort(address);
  if (parsed === undefined) {
    throw new CachetailError(
      'CONFIG_INVALID',
      `memcached server ${JSON.stringify(address)}: expected host:port with a port 1-65535`,
    );
  }
  return { address, ...parsed };
}

export function createRouter(
  mode: HashingMode,
  servers: readonly ServerAddress[],
  weights?: readonly number[],
): Router {
  if (servers.length === 0) throw new CachetailError('CONFIG_INVALID', 'memcached: no servers configured');
  if (weights && weights.length !== servers.length) {
    throw new CachetailError(
      'CONFIG_INVALID',
      `memcached: ${weights.length} weights for ${servers.length} servers`,
    );
  }
  if (weights && mode !== 'ketama' && weights.some((w) => w !== 1)) {
    throw new CachetailError(
      'CONFIG_INVALID',
      `memcached: weights only apply to ketama hashing, not ${mode}`,
    );
  }
  // Precomputed single-element arrays: routing runs per key on the hot path and must not allocate.
  const single = servers.map((_, i) => [i] as const);
  switch (mode) {
    case 'memjs': {
      const select = memjsSelector(servers.length);
      return { mode, serversFor: (key) => single[select(key)] };
    }
    case 'ketama': {
      const ring = new KetamaContinuum(
        servers.map((s, i) => ({ host: s.host, port: s.port, weight: weights?.[i] ?? 1 })),
      );
      return { mode, serversFor: (key) => single[ring.serverFor(key)] };
    }
    case 'broadcast': {
      const all = servers.map((_, i) => i);
      return { mode, serversFor: () => all };
    }
  }
}

/**
 * The batch's keys grouped per server: de-duplicated, in first-seen order, each key once per server
 * that must receive it.
 */
export function groupByServer(keys: Iterable<string>, router: Router, serverCount: number): string[][] {
  const groups: string[][] = Array.from({ length: serverCount }, () => []);
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key)) continue;
    seen.add(key);
    for (const i of router.serversFor(key)) groups[i].push(key);
  }
  return groups;
}
