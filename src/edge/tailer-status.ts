/**
 * Reading the local tailers' `GET /status` answers (the contract with the tailer's status server) into
 * one LocalState (contract: docs/observability.md, GET /status). Any one tailer that is unreachable,
 * not applying invalidations (state streaming or paused), not ready, without a watermark, reporting
 * another region, stale or lagging makes the whole region unhealthy: with one shard's
 * invalidations stuck the regional tier may serve that shard's stale rows, and the edge cannot know
 * which requests touch which shard.
 *
 * Unknown fields in the answer are allowed (a newer tailer may add some); missing or mistyped ones make
 * that tailer unhealthy.
 */
import { parseGtidState } from '../binlog/index.js';
import { statusContractSchema } from '../contracts/status.js';
import { errorMessage } from '../errors.js';
import type { LocalState, TailerWatermark } from './types.js';

export const tailerStatusSchema = statusContractSchema;

export type { StatusContract as TailerStatus } from '../contracts/status.js';

/** States in which the tailer applies invalidations (`paused` = reading waits for a slow sink, nothing lost). */
const APPLYING_STATES: ReadonlySet<string> = new Set(['streaming', 'paused']);

/** One tailer's answer: the parsed JSON body of a 200, or why there is none. */
export type TailerReading =
  { url: string; ok: true; body: unknown } | { url: string; ok: false; problem: string };

export interface HealthLimits {
  /** The edge's region; a tailer reporting another one is misconfigured. */
  readonly region: string;
  /**
   * A watermark whose updatedAt is older than this is stale. 0 turns the check off (the default: the
   * tailer moves updatedAt only when it acknowledges a transaction, so an idle primary looks stale).
   */
  readonly maxWatermarkAgeMs: number;
  /** lagSeconds above this is too much lag; null lag (unknown) does not count as over. 0 turns it off. */
  readonly maxLagSeconds: number;
}

export function evaluateTailers(
  readings: readonly TailerReading[],
  limits: HealthLimits,
  now: number,
): LocalState {
  const watermarks: TailerWatermark[] = [];
  for (const reading of readings) {
    const checked = checkOne(reading, limits, now);
    if (typeof checked === 'string') return { healthy: false, problem: `tailer ${reading.url}: ${checked}` };
    watermarks.push(checked);
  }
  return { healthy: true, watermarks };
}

function checkOne(reading: TailerReading, limits: HealthLimits, now: number): TailerWatermark | string {
  if (!reading.ok) return reading.problem;
  const parsed = tailerStatusSchema.safeParse(reading.body);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return `unexpected /status answer (${first ? `${first.path.join('.') || '(root)'}: ${first.message}` : 'invalid'})`;
  }
  const s = parsed.data;
  if (s.region !== limits.region)
    return `reports region ${JSON.stringify(s.region)}, the edge is in ${JSON.stringify(limits.region)}`;
  if (!APPLYING_STATES.has(s.state))
    return `state ${s.state}${s.lastError ? ` (${s.lastError.code}: ${s.lastError.message})` : ''}`;
  if (!s.ready) return 'not ready';
  if (s.watermark === null) return 'no watermark yet';
  const age = now - s.watermark.updatedAt;
  if (limits.maxWatermarkAgeMs > 0 && age > limits.maxWatermarkAgeMs) {
    return `watermark is ${age} ms old (limit ${limits.maxWatermarkAgeMs} ms)`;
  }
  if (limits.maxLagSeconds > 0 && s.lagSeconds !== null && s.lagSeconds > limits.maxLagSeconds) {
    return `lag ${s.lagSeconds} s (limit ${limits.maxLagSeconds} s)`;
  }
  try {
    return { url: reading.url, gtid: parseGtidState(s.watermark.gtid) };
  } catch (err) {
    return `watermark GTID ${JSON.stringify(s.watermark.gtid)} does not parse: ${errorMessage(err)}`;
  }
}
