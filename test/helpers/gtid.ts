import { GtidState } from '../../src/binlog/index.js';

/**
 * The GTID state `text` (a checkpoint's, a watermark's) holds exactly the GTIDs of `state`: MariaDB one
 * GTID per domain (`0-1-57`), MySQL a set (`uuid:1-57`).
 */
export function sameGtids(text: string | undefined, state: string): boolean {
  return text !== undefined && GtidState.parse(text).equals(GtidState.parse(state));
}
