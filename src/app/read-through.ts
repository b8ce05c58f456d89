/**
 * `getOrLoad(client, key, loader, { ttl })`: the application's read path, written so that it cannot
 * reintroduce a stale value.
 *
 * - A miss loads and fills with memcached `add`, never `set`: `add` cannot overwrite anything, in
 *   particular not the tailer's hold-off tombstone. That is what closes the stale-set race (DESIGN §3): a
 *   reader that read the lagging replica before the invalidation tries to fill after it, and its `add`
 *   fails against the tombstone, where a `set` would have put the old value back for a whole TTL.
 * - A tombstone is a miss: the loader's value is returned and not cached (an `add` would fail anyway).
 * - A value that is not ours (not the envelope, another type tag, rejected by `validate`) is a miss,
 *   counted, and left alone: without CAS (memjs has none) replacing it could erase a tombstone written
 *   between our get and our write. It goes when its TTL ends; put a schema version in the key.
 * - memcached failing is never the reader's problem: a failed get loads, a failed fill is counted.
 */
import { isTombstone } from '../sinks/memcached/tombstone.js';
import { decodeEnvelope, encodeEnvelope } from './envelope.js';
import { InvalidationError } from './errors.js';
import { checkKey } from './statements.js';

/** The memjs calls getOrLoad uses; a memjs `Client` fits. */
export interface ReadThroughClient {
  get(key: string): Promise<{ value: Buffer | null }>;
  add(key: string, value: string, options: { expires?: number }): Promise<boolean>;
}

export interface ReadThroughStats {
  hits: number;
  /** Nothing cached. */
  misses: number;
  /** A hold-off tombstone was there: loaded, not filled. */
  tombstones: number;
  /** Something that is not a value of this type was there: loaded, not filled, left alone. */
  corrupt: number;
  /** add stored the loaded value. */
  fills: number;
  /** add found the key taken (a tombstone, or another reader's fill): nothing stored. */
  fillsRefused: number;
  fillErrors: number;
  getErrors: number;
  /** The loader's value has no exact JSON form (undefined, bigint, a cycle): returned, not cached. */
  unserializable: number;
}

export function createReadThroughStats(): ReadThroughStats {
  return {
    hits: 0,
    misses: 0,
    tombstones: 0,
    corrupt: 0,
    fills: 0,
    fillsRefused: 0,
    fillErrors: 0,
    getErrors: 0,
    unserializable: 0,
  };
}

export interface GetOrLoadOptions<T> {
  /** Seconds, 1 to 2,592,000 (memcached reads larger numbers as an absolute unix time). */
  ttl: number;
  /** Type tag stored with the value; a value under another tag is a miss. Default 'json'. */
  type?: string;
  /** Checks a cached value's shape before it is returned; false = corrupt (a miss). */
  validate?: (value: unknown) => value is T;
  stats?: ReadThroughStats;
}

const MAX_TTL_SECONDS = 30 * 24 * 3600;

export async function getOrLoad<T>(
  client: ReadThroughClient,
  key: string,
  loader: () => Promise<T> | T,
  opts: GetOrLoadOptions<T>,
): Promise<T> {
  checkKey(key);
  if (!Number.isSafeInteger(opts.ttl) || opts.ttl < 1 || opts.ttl > MAX_TTL_SECONDS) {
    throw new InvalidationError(
      'INVALIDATION_USAGE',
      `ttl must be whole seconds in 1..${MAX_TTL_SECONDS}, got ${opts.ttl}`,
    );
  }
  const type = opts.type ?? 'json';
  const stats = opts.stats ?? createReadThroughStats();

  let cached: Buffer | null;
  try {
    cached = (await client.get(key)).value;
  } catch {
    stats.getErrors++;
    return loader();
  }
  if (cached !== null) {
    if (isTombstone(cached)) {
      stats.tombstones++;
      return loader();
    }
    const decoded = decodeEnvelope(type, cached);
    if (decoded.ok && (opts.validate === undefined || opts.validate(decoded.value))) {
      stats.hits++;
      return decoded.value as T;
    }
    stats.corrupt++;
    return loader();
  }

  stats.misses++;
  const value = await loader();
  const body = encodeEnvelope(type, value);
  if (body === null) {
    stats.unserializable++;
    return value;
  }
  try {
    if (await client.add(key, body, { expires: opts.ttl })) stats.fills++;
    else stats.fillsRefused++;
  } catch {
    stats.fillErrors++;
  }
  return value;
}
