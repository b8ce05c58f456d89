/**
 * The vocabulary the edge router's units share. A decision names the region a request goes to and why;
 * the reasons are the label values of the decision counter and of the access log, so they are stable.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { GtidState } from '../binlog/index.js';

export const DECISION_REASONS = [
  'write',
  'pinned-by-time',
  'pinned-by-position',
  'unpinned-by-watermark',
  'fail-safe',
  'bad-cookie',
  'local',
] as const;

export type DecisionReason = (typeof DECISION_REASONS)[number];

export interface Decision {
  readonly region: string;
  readonly reason: DecisionReason;
  /** The live recent-write cookie the request carried, so a write's new cookie can merge its GTID. */
  readonly pin: RecentWrite | undefined;
}

/** What a valid recent-write cookie says: when the user last wrote and, when known, at which GTID. */
export interface RecentWrite {
  /** ms since the epoch. */
  readonly writtenAt: number;
  /** The write's GTID (a MySQL set or a MariaDB position); undefined when the app did not send one. */
  readonly gtid: GtidState | undefined;
}

/** The part of an HTTP request the policy looks at. `url` is the request target (path and query). */
export interface EdgeRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

/**
 * What the local region's tailers say, as far as routing cares. `healthy: false` carries the first
 * problem found, for logs and /healthz (never for the client).
 */
export type LocalState =
  | { readonly healthy: true; readonly watermarks: readonly TailerWatermark[] }
  | { readonly healthy: false; readonly problem: string };

export interface TailerWatermark {
  readonly url: string;
  readonly gtid: GtidState;
}
