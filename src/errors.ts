/**
 * Every error cachetail raises carries a stable `code` an operator (or a test) can match on, and says
 * whether retrying the same operation can help. Fatal errors (position purged, bad config) are
 * `retryable: false` and stop the loop with a message that names the fix.
 */
export class CachetailError extends Error {
  readonly code: string;
  readonly retryable: boolean;

  constructor(code: string, message: string, opts: { retryable: boolean; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'CachetailError';
    this.code = code;
    this.retryable = opts.retryable;
  }
}

/** Message of an unknown thrown value, for logs. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
