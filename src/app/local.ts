/**
 * The writer's own region (DESIGN §1, as in the 2008 design): after its commit the writer deletes the keys
 * from the master region's memcached tier itself, so it reads its own write at home. No tailer runs there:
 * the primary's region has no replica to wait for.
 *
 * With `holdOffSeconds` the writer writes the tailer's hold-off tombstone (src/sinks/memcached/
 * tombstone.ts) instead of deleting: a reader in the master region that read the primary just before the
 * commit cannot then fill the old value with `add` (getOrLoad) — the same race as in a replica region,
 * with a much shorter window.
 */
import { CachetailError } from '../errors.js';
import { TOMBSTONE_VALUE } from '../sinks/memcached/tombstone.js';
import { InvalidationError } from './errors.js';

/** The memjs calls the writer uses; a memjs `Client` fits. */
export interface LocalCacheClient {
  delete(key: string): Promise<boolean>;
  set(key: string, value: Buffer, options: { expires?: number }): Promise<boolean>;
}

export interface LocalTier {
  /** The application's memjs client for the master region's tier (same routing as its reads). */
  client: LocalCacheClient;
  /** Write hold-off tombstones with this TTL (s) instead of deleting. */
  holdOffSeconds?: number | undefined;
}

/**
 * Deletes (or tombstones) every key, all in parallel; resolves with the keys that failed. memcached down is
 * the usual failure; the caller decides how to report it (the transaction has committed by then).
 */
export async function invalidateLocal(
  tier: LocalTier,
  keys: readonly string[],
): Promise<InvalidationError | null> {
  const ttl = tier.holdOffSeconds;
  const one = async (key: string): Promise<void> => {
    if (ttl === undefined || ttl <= 0) {
      await tier.client.delete(key); // false = was not cached: fine
    } else if (!(await tier.client.set(key, TOMBSTONE_VALUE, { expires: ttl }))) {
      throw new CachetailError(
        'MEMCACHED_ERROR_STATUS',
        `memcached did not store the tombstone for ${JSON.stringify(key)}`,
      );
    }
  };
  const results = await Promise.allSettled(keys.map(one));
  const failed = keys.filter((_, i) => results[i]?.status === 'rejected');
  if (failed.length === 0) return null;
  const first = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  const reason: unknown = first?.reason;
  return new InvalidationError(
    'INVALIDATION_LOCAL_FAILED',
    `committed, but ${failed.length} of ${keys.length} keys could not be ${ttl ? 'tombstoned' : 'deleted'} ` +
      `in the local memcached tier: ${reason instanceof Error ? reason.message : String(reason)}`,
    { cause: reason, committed: true, keys: failed },
  );
}
