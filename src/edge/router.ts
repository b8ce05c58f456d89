/**
 * The edge router: the one object the three shapes (fastify plugin, proxy, node middleware) share. It
 * reads the request's recent-write cookie, asks the pure policy, fetches the local state only when the
 * policy needs it, and counts the outcome; after the upstream answered it turns the write into a new
 * cookie and marks the response. The shapes only adapt their request/response objects to this.
 */
import type { Logger } from 'pino';
import { parseGtidState, type GtidState } from '../binlog/index.js';
import { CachetailError } from '../errors.js';
import {
  VerifiedCookies,
  readRecentWrite,
  serializeCookie,
  signRecentWrite,
  type CookieAttributes,
} from './cookie.js';
import type { KeyRing } from './keys.js';
import type { EdgeMetrics } from './metrics.js';
import { classify, needsLocalState, resolve, type PolicyConfig } from './policy.js';
import type { RouteMatcher } from './routes.js';
import type { Decision, EdgeRequest, LocalState } from './types.js';
import type { LocalWatermark } from './watermark.js';

/** Response headers the application sets to signal a write; stripped before the client sees them. */
export const WRITE_HEADER = 'x-cachetail-write';
export const GTID_HEADER = 'x-cachetail-gtid';
/** Added to every routed response: the region that answered. */
export const REGION_HEADER = 'x-cachetail-region';

/** The response side of whatever server object a shape has. Names are lower-case. */
export interface ResponseHeaders {
  get(name: string): string | number | readonly string[] | undefined;
  set(name: string, value: string): void;
  remove(name: string): void;
  appendSetCookie(value: string): void;
}

export interface EdgeRouterOptions {
  readonly policy: PolicyConfig;
  readonly isSafe: RouteMatcher;
  readonly keys: KeyRing;
  readonly cookie: CookieAttributes;
  /** Required when policy.hasTailers. */
  readonly watermark?: LocalWatermark;
  readonly metrics?: EdgeMetrics;
  readonly log?: Logger;
  readonly now?: () => number;
}

export class EdgeRouter {
  private readonly now: () => number;
  private readonly verified = new VerifiedCookies();

  constructor(private readonly opts: EdgeRouterOptions) {
    this.now = opts.now ?? Date.now;
    if (opts.policy.hasTailers && opts.watermark === undefined) {
      throw new CachetailError('CONFIG_INVALID', 'EdgeRouter: policy.hasTailers needs a watermark source');
    }
  }

  get localRegion(): string {
    return this.opts.policy.localRegion;
  }

  get masterRegion(): string {
    return this.opts.policy.masterRegion;
  }

  async decide(req: EdgeRequest): Promise<Decision> {
    const { cookie: attrs, keys, policy } = this.opts;
    const reading = readRecentWrite(
      keys,
      req.headers.cookie,
      attrs.name,
      this.now(),
      attrs.windowMs,
      this.verified,
    );
    if (reading.kind === 'rejected') this.opts.metrics?.cookieRejected(reading.why);
    const intent = classify({ safe: this.opts.isSafe(req.method, req.url), cookie: reading });
    const state = needsLocalState(intent, policy) ? await this.opts.watermark!.current() : undefined;
    const decision = resolve(intent, policy, state);
    this.opts.metrics?.decision(decision.region, decision.reason);
    return decision;
  }

  /**
   * Call once, before the response headers are written. A write is a request routed as one, or any
   * response carrying `x-cachetail-write: 1` or an `x-cachetail-gtid`; `x-cachetail-write: 0` says a
   * request routed as a write (a search form's POST) wrote nothing. Only 2xx/3xx answers pin: a failed
   * write changed nothing to wait for.
   */
  finishResponse(decision: Decision, statusCode: number, headers: ResponseHeaders): void {
    const writeSignal = single(headers.get(WRITE_HEADER));
    const gtidSignal = single(headers.get(GTID_HEADER));
    if (writeSignal !== undefined) headers.remove(WRITE_HEADER);
    if (gtidSignal !== undefined) headers.remove(GTID_HEADER);
    const wrote =
      writeSignal === '0'
        ? false
        : writeSignal === '1' || (gtidSignal ?? '') !== '' || decision.reason === 'write';
    if (wrote && statusCode >= 200 && statusCode < 400) {
      const gtid = this.cookieGtid(decision, gtidSignal);
      headers.appendSetCookie(
        serializeCookie(this.opts.cookie, signRecentWrite(this.opts.keys, { writtenAt: this.now(), gtid })),
      );
      this.opts.metrics?.cookieSet();
    }
    headers.set(REGION_HEADER, decision.region);
    const vary = headers.get('vary');
    const merged = varyWithCookie(vary);
    if (merged !== undefined) headers.set('vary', merged);
  }

  /** The last known local state, without fetching (health endpoints). */
  localState(): LocalState | undefined {
    return this.opts.watermark?.peek();
  }

  /**
   * The GTID the new cookie carries. An earlier live pin is merged in, so a second write to another
   * shard does not release the first; if either write's GTID is unknown the cookie pins by time only,
   * as a position cannot be promised for a write whose position is unknown.
   */
  private cookieGtid(decision: Decision, text: string | undefined): GtidState | undefined {
    let gtid: GtidState | undefined;
    if (text !== undefined && text.trim() !== '') {
      try {
        gtid = parseGtidState(text);
      } catch {
        this.opts.log?.warn(
          { gtid: text.slice(0, 200) },
          `ignoring unparsable ${GTID_HEADER} from the application`,
        );
        return undefined;
      }
    }
    const earlier = decision.pin;
    if (gtid === undefined || earlier === undefined) return gtid;
    if (earlier.gtid === undefined) return undefined;
    try {
      return earlier.gtid.union(gtid);
    } catch {
      return undefined;
    }
  }
}

function single(value: string | number | readonly string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return value.trim();
  return value.length > 0 ? value[value.length - 1].trim() : undefined;
}

/** The Vary value with Cookie added, or undefined when it already varies on Cookie (or on everything). */
export function varyWithCookie(vary: string | number | readonly string[] | undefined): string | undefined {
  const text = vary === undefined ? '' : Array.isArray(vary) ? vary.join(', ') : String(vary);
  const tokens = text
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t !== '');
  if (tokens.includes('*') || tokens.includes('cookie')) return undefined;
  return tokens.length === 0 ? 'Cookie' : `${text}, Cookie`;
}
