/**
 * `cachetail/app`: the application library (docs/app-library.md). Writers declare the keys a
 * transaction makes stale; readers fill the cache so that an invalidation can never be undone.
 */
export {
  withInvalidation,
  type InvalidationCommit,
  type InvalidationMode,
  type InvalidationOptions,
  type InvalidationTarget,
  type InvalidationTransaction,
  type IsolationLevel,
} from './writer.js';
export { InvalidationError, type InvalidationErrorCode } from './errors.js';
export { invalidateLocal, type LocalCacheClient, type LocalTier } from './local.js';
export {
  createReadThroughStats,
  getOrLoad,
  type GetOrLoadOptions,
  type ReadThroughClient,
  type ReadThroughStats,
} from './read-through.js';
export { ENVELOPE_VERSION, decodeEnvelope, encodeEnvelope } from './envelope.js';
export { lastWriteGtid, serverFlavor, trackWriteGtids, trackedGtids, type ServerFlavor } from './gtid.js';
export {
  DEFAULT_CARRIER_TABLE,
  DEFAULT_OUTBOX_TABLE,
  carrierTableDdl,
  outboxTableDdl,
  schemaSql,
} from './schema.js';
export { cleanupCarrier, cleanupOutbox, type CleanupOptions, type CleanupResult } from './cleanup.js';
// One statement by hand, and the shared key rules.
export {
  AnnotationError,
  MAX_KEY_BYTES,
  annotate,
  encodeKey,
  formatAnnotation,
  validateKey,
  type AnnotationErrorCode,
  type AnnotationFields,
} from '../annotate/index.js';
export { TOMBSTONE_VALUE, isTombstone } from '../sinks/memcached/tombstone.js';
