/**
 * Hold-off tombstones, shared with the application library (import from here; no I/O, no dependencies).
 *
 * The stale-set race: a reader misses the cache, reads the lagging replica, the tailer deletes the key,
 * then the reader writes the old value back — stale until it expires. In hold-off mode the tailer does not
 * delete: it *sets* the key to TOMBSTONE_VALUE with a short TTL (default 10 s). A fill written with
 * memcached `add` fails while the tombstone is there, so the old value cannot return; after the TTL the key
 * is simply gone and the next fill (by then from a replica that has applied the change) succeeds.
 *
 * Contract for the app's read-through helper:
 *  - `get` returning a value for which `isTombstone(value)` is true is a miss: read the database, serve
 *    that result, and do NOT cache it with `set` (that would erase the tombstone); fill only with `add`.
 *  - check before deserializing: the tombstone is not JSON or any other serialization format.
 *
 * Wire form: value = the 24 bytes NUL "cachetail:tombstone:v1" NUL (TOMBSTONE_VALUE below), flags = 0 (so clients that use flags to pick a deserializer — pylibmc, memjs users — hand it back as raw
 * bytes), expiry = the hold-off TTL in seconds. The NUL bytes keep it from colliding with any text an
 * application would store; treat the exact byte string as reserved.
 */

/** The tombstone's bytes, as a latin1/ASCII string (every byte < 0x80, so also valid UTF-8). */
export const TOMBSTONE_TEXT = '\u0000cachetail:tombstone:v1\u0000';
export const TOMBSTONE_VALUE: Buffer = Buffer.from(TOMBSTONE_TEXT, 'latin1');
export const TOMBSTONE_FLAGS = 0;
export const DEFAULT_TOMBSTONE_TTL_SECONDS = 10;

/** True when a value read from memcached is a cachetail tombstone (treat as a miss; never overwrite). */
export function isTombstone(value: Uint8Array | string | null | undefined): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value === 'string') return value === TOMBSTONE_TEXT;
  return (
    value.length === TOMBSTONE_VALUE.length &&
    Buffer.from(value.buffer, value.byteOffset, value.length).equals(TOMBSTONE_VALUE)
  );
}
