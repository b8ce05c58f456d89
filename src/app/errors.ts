import { CachetailError } from '../errors.js';

/** Stable codes of the application library's own errors (key errors are AnnotationError). */
export type InvalidationErrorCode =
  /** `tx.query`/`tx.dirty` after the transaction ended: the keys would belong to no transaction. */
  | 'INVALIDATION_CLOSED'
  /** withInvalidation on a connection that is already inside one (BEGIN would commit the outer one). */
  | 'INVALIDATION_NESTED'
  /** BEGIN/COMMIT/ROLLBACK through `tx`: the helper owns the transaction's boundaries. */
  | 'INVALIDATION_TX_CONTROL'
  /** A configured table name that is not `table` or `db.table` of plain identifier characters. */
  | 'INVALIDATION_TABLE_NAME'
  /** The carrier or outbox table is missing or has the wrong columns (see sql/cachetail-app.sql). */
  | 'INVALIDATION_TABLE_MISSING'
  /** The transaction committed, but deleting its keys from the local memcached tier failed. */
  | 'INVALIDATION_LOCAL_FAILED'
  /** A bad argument to the library (ttl out of range, empty type tag). */
  | 'INVALIDATION_USAGE';

// None of these goes away by retrying the same call: each names a bug or a setup step.
export class InvalidationError extends CachetailError {
  declare readonly code: InvalidationErrorCode;
  /** True when the database transaction committed before the error (only INVALIDATION_LOCAL_FAILED). */
  readonly committed: boolean;
  /** The keys the error is about (INVALIDATION_LOCAL_FAILED: those not deleted locally). */
  readonly keys: readonly string[];

  constructor(
    code: InvalidationErrorCode,
    message: string,
    opts: { cause?: unknown; committed?: boolean; keys?: readonly string[] } = {},
  ) {
    super(code, message, { cause: opts.cause });
    this.name = 'InvalidationError';
    this.committed = opts.committed ?? false;
    this.keys = opts.keys ?? [];
  }
}
