import { CachetailError } from '../../errors.js';

export type GtidErrorCode =
  /** The text is not a GTID / GTID set / GTID state of the expected flavour. */
  | 'GTID_PARSE'
  /** A MySQL GTID set and a MariaDB GTID state were combined or compared. */
  | 'GTID_FLAVOR_MISMATCH';

/**
 * A GTID text that cannot be used. Never retryable: the same text fails the same way; the operator has
 * to fix the checkpoint file, the cookie or the configuration that supplied it. `text` is the offending
 * input (the whole text, not only the part that failed), capped so a huge cookie cannot flood a log.
 */
export class GtidError extends CachetailError {
  declare readonly code: GtidErrorCode;
  declare readonly retryable: false;
  readonly text: string;

  constructor(code: GtidErrorCode, detail: string, text: string) {
    const shown = text.length > 200 ? `${text.slice(0, 200)}…` : text;
    super(code, `${code}: ${detail} in ${JSON.stringify(shown)}`);
    this.name = 'GtidError';
    this.text = text;
  }
}
