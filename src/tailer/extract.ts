/** The tailer's key extractor: a statement's annotations → the keys to delete. */
import { extractAnnotations, type RejectReason } from '../annotate/index.js';
import type { Logger } from '../observability/logger.js';
import type { KeyExtractor } from './transactions.js';

/** Statement text → valid keys; rejected keys are reported and logged, never deleted mangled. */
export function annotationExtractor(
  log: Logger,
  onRejected: (reason: RejectReason) => void = () => {},
): KeyExtractor {
  return (sql, lex) => {
    const result = extractAnnotations(sql, lex);
    if (result.rejected.length > 0) {
      for (const r of result.rejected) onRejected(r.reason);
      log.warn({ rejected: result.rejected }, 'annotation keys rejected (not deleted)');
    }
    let writerTimeMs: number | undefined;
    for (const a of result.annotations) {
      if (a.ts !== undefined && (writerTimeMs === undefined || a.ts < writerTimeMs)) writerTimeMs = a.ts;
    }
    return { keys: result.keys, writerTimeMs };
  };
}
