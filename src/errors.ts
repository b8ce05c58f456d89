import {
  ERROR_CODES,
  type ContextDependentCode,
  type ErrorCode,
  type FatalCode,
  type RetryableCode,
} from './errors/codes.js';

export { ERROR_CODES, type ErrorCode } from './errors/codes.js';

/**
 * Every error cachetail raises carries a stable `code` from the registry (src/errors/codes.ts, listed for
 * operators in docs/errors.md) that an operator (or a test) can match on, and says whether retrying the
 * same operation can help. `retryable` comes from the registry: a site may restate it but never
 * contradict it; only a context-dependent code takes the site's answer. Fatal errors (position purged,
 * bad config) are not retryable and stop the loop with a message that names the fix.
 */
export class CachetailError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(code: RetryableCode, message: string, opts?: { retryable?: true; cause?: unknown });
  constructor(code: FatalCode, message: string, opts?: { retryable?: false; cause?: unknown });
  /** A mix of fixed codes (e.g. a subclass's code union). */
  constructor(code: RetryableCode | FatalCode, message: string, opts?: { cause?: unknown });
  constructor(code: ContextDependentCode, message: string, opts: { retryable: boolean; cause?: unknown });
  constructor(code: ErrorCode, message: string, opts: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'CachetailError';
    this.code = code;
    const registered = ERROR_CODES[code].retryable;
    this.retryable = registered === 'depends' ? opts.retryable === true : registered;
  }
}

/** Message of an unknown thrown value, for logs. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The code of any thrown value: a CachetailError's; a foreign error's own string code (node's
 * ECONNRESET, mysql2's ER_…); else 'ERROR'. Kafka errors have kafkaErrorCode (sinks/kafka/client.ts).
 */
export function errorCodeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : 'ERROR';
}

/**
 * The fields a log line carries for an error: `err` (its message, as every line so far) and `code`.
 * Only the message is logged, never the error object: a driver error can carry the connection options.
 */
export function errorFields(err: unknown): { err: string; code: string } {
  return { err: errorMessage(err), code: errorCodeOf(err) };
}
