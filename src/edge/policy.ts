/**
 * The routing policy, pure: request facts + the two regions + the local region's state → the region
 * and the reason. No I/O, no clock: the cookie has already been read (cookie.ts) and the local state
 * fetched (watermark.ts) by the caller, which asks needsLocalState() first so that most requests never
 * wait for a tailer.
 *
 * Decision table for a replica region (local ≠ master), first match wins:
 *
 *   unsafe (not GET/HEAD, not on the safe list, or denied)      → master  write
 *   tailers unhealthy and failSafe = 'all'                      → master  fail-safe
 *   live cookie with a GTID, position mode, tailers unhealthy   → master  fail-safe
 *   live cookie with a GTID, position mode, GTID reached        → local   unpinned-by-watermark
 *   live cookie with a GTID, position mode, not reached         → master  pinned-by-position
 *   live cookie (no GTID, or position mode off)                 → master  pinned-by-time
 *   forged / malformed / unknown-key cookie                     → local   bad-cookie
 *   no cookie, or an expired one                                → local   local
 *
 * In the master region everything goes to the master region (reasons write, bad-cookie, local).
 */
import type { CookieReading } from './cookie.js';
import { writeReached } from './position.js';
import type { Decision, LocalState } from './types.js';

export interface PolicyConfig {
  readonly localRegion: string;
  readonly masterRegion: string;
  /** A cookie's GTID unpins once the local watermark has reached it. Needs at least one tailer. */
  readonly positionMode: boolean;
  /** What an unhealthy local region sends to master: what would have been pinned, or every safe request. */
  readonly failSafe: 'pinned' | 'all';
  /** Tailers are configured, so there is a local state to consult. */
  readonly hasTailers: boolean;
}

/** The cookie travels with a write too: the cookie set after it merges the earlier pin's GTID. */
export interface Intent {
  readonly kind: 'write' | 'read';
  readonly cookie: CookieReading;
}

export interface PolicyInput {
  /** compileRouteRules(...)(method, url): GET/HEAD on the safe list and not denied. */
  readonly safe: boolean;
  readonly cookie: CookieReading;
}

export function classify(input: PolicyInput): Intent {
  return { kind: input.safe ? 'read' : 'write', cookie: input.cookie };
}

/** Whether resolve() will look at the local state for this intent (so the caller fetches it only then). */
export function needsLocalState(intent: Intent, cfg: PolicyConfig): boolean {
  if (intent.kind === 'write' || !cfg.hasTailers || cfg.localRegion === cfg.masterRegion) return false;
  if (cfg.failSafe === 'all') return true;
  return cfg.positionMode && intent.cookie.kind === 'valid' && intent.cookie.write.gtid !== undefined;
}

/** `state` may be undefined only when needsLocalState() said it is not needed. */
export function resolve(intent: Intent, cfg: PolicyConfig, state: LocalState | undefined): Decision {
  const master = cfg.masterRegion;
  const { cookie } = intent;
  const pin = cookie.kind === 'valid' ? cookie.write : undefined;
  if (intent.kind === 'write') return { region: master, reason: 'write', pin };
  const local = cfg.localRegion;
  const forged = cookie.kind === 'rejected' && cookie.why !== 'expired';
  if (local === master) return { region: local, reason: forged ? 'bad-cookie' : 'local', pin };
  const unhealthy = cfg.hasTailers && state !== undefined && !state.healthy;
  if (unhealthy && cfg.failSafe === 'all') return { region: master, reason: 'fail-safe', pin };
  if (pin !== undefined) {
    if (pin.gtid === undefined || !cfg.positionMode || !cfg.hasTailers) {
      return { region: master, reason: 'pinned-by-time', pin };
    }
    if (state === undefined || !state.healthy) return { region: master, reason: 'fail-safe', pin };
    return writeReached(pin.gtid, state.watermarks)
      ? { region: local, reason: 'unpinned-by-watermark', pin }
      : { region: master, reason: 'pinned-by-position', pin };
  }
  return { region: local, reason: forged ? 'bad-cookie' : 'local', pin };
}

/** classify + resolve, for callers that already hold the local state (and for tests of the table). */
export function decide(input: PolicyInput, cfg: PolicyConfig, state: LocalState | undefined): Decision {
  return resolve(classify(input), cfg, state);
}
