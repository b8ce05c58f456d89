// The consistency sampler's report: produced by src/sampler, served in /status by src/observability and
// drawn by src/dashboard. Types only, so each side imports it without importing the others.

export interface DelayReport {
  delayMs: number;
  /** What the check at this delay found. */
  checks: number;
  consistent: number;
  stale: number;
  errors: number;
  /**
   * Consistent **within** this delay: at this check or an earlier one of the same key (a key found
   * consistent at 1 s and stale at 10 s is stale again because of later writes, not this one); stale:
   * at every decided check so far; errors: no check so far decided.
   */
  within: { consistent: number; stale: number; errors: number };
  /** within.consistent / (within.consistent + within.stale); null before the first decided check. */
  fraction: number | null;
}

/** The /status `consistency` extra. */
export interface ConsistencyReport {
  every: number;
  /** Invalidated keys seen, keys sampled, keys skipped because maxPending were waiting. */
  keysSeen: number;
  sampled: number;
  skipped: number;
  pending: number;
  delays: DelayReport[];
}
