import { CachetailError } from '../errors.js';

/** Stable codes for errors thrown on the writer side; none of them goes away by retrying. */
export type AnnotationErrorCode =
  | 'ANNOTATION_INVALID_KEY'
  | 'ANNOTATION_NO_KEYS'
  | 'ANNOTATION_INVALID_FIELD'
  | 'ANNOTATION_UNTERMINATED'
  | 'ANNOTATION_MULTI_STATEMENT'
  | 'ANNOTATION_EMPTY_STATEMENT';

// Thrown rather than returned: a writer that silently dropped a key would leave a stale cache entry
// that nobody notices until a user does.
export class AnnotationError extends CachetailError {
  override readonly name = 'AnnotationError';
  declare readonly retryable: false;
  declare readonly code: AnnotationErrorCode;

  constructor(code: AnnotationErrorCode, message: string) {
    super(code, message);
  }
}
