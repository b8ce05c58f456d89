/**
 * The local region's state as the router sees it: the tailers' /status answers, fetched together,
 * evaluated into one LocalState and cached for `cacheMs`, so a burst of pinned requests costs one round
 * of fetches. Single-flight: requests arriving while a refresh is under way wait for that refresh
 * instead of starting their own. A failed refresh is cached like a good one — an unreachable tailer is
 * not asked again for every request.
 */
import { errorMessage } from '../errors.js';
import { evaluateTailers, type HealthLimits, type TailerReading } from './tailer-status.js';
import type { LocalState } from './types.js';

export type StatusFetcher = (url: string, timeoutMs: number) => Promise<TailerReading>;

export interface LocalWatermarkOptions {
  readonly urls: readonly string[];
  readonly limits: HealthLimits;
  readonly cacheMs: number;
  readonly timeoutMs: number;
  readonly fetchStatus?: StatusFetcher;
  readonly now?: () => number;
  /** Called with every freshly evaluated state (metrics, logging of transitions). */
  readonly onRefresh?: (state: LocalState) => void;
}

export class LocalWatermark {
  private cached: { state: LocalState; at: number } | undefined;
  private inflight: Promise<LocalState> | undefined;
  private readonly fetchStatus: StatusFetcher;
  private readonly now: () => number;

  constructor(private readonly opts: LocalWatermarkOptions) {
    this.fetchStatus = opts.fetchStatus ?? fetchTailerStatus;
    this.now = opts.now ?? Date.now;
  }

  current(): Promise<LocalState> {
    const cached = this.cached;
    if (cached !== undefined && this.now() - cached.at < this.opts.cacheMs)
      return Promise.resolve(cached.state);
    this.inflight ??= this.refresh().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  /** The last evaluated state without fetching (for /healthz); undefined before the first refresh. */
  peek(): LocalState | undefined {
    return this.cached?.state;
  }

  private async refresh(): Promise<LocalState> {
    // Stamped with the start time: the answers are at least this fresh, so the cache never overstates.
    const at = this.now();
    const readings = await Promise.all(
      // async, so a fetcher that throws instead of rejecting is caught too.
      this.opts.urls.map(async (url): Promise<TailerReading> => {
        try {
          return await this.fetchStatus(url, this.opts.timeoutMs);
        } catch (err) {
          return { url, ok: false, problem: errorMessage(err) };
        }
      }),
    );
    const state = evaluateTailers(readings, this.opts.limits, this.now());
    this.cached = { state, at };
    this.opts.onRefresh?.(state);
    return state;
  }
}

/** GET `url` with a deadline; any failure becomes a reading that says what went wrong. */
export async function fetchTailerStatus(url: string, timeoutMs: number): Promise<TailerReading> {
  let res: Response;
  try {
    res = await fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      headers: { accept: 'application/json' },
    });
  } catch (err) {
    if (err instanceof Error && err.name === 'TimeoutError') {
      return { url, ok: false, problem: `no answer within ${timeoutMs} ms` };
    }
    const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
    const code = typeof cause?.code === 'string' ? cause.code : errorMessage(err);
    return { url, ok: false, problem: `unreachable (${code})` };
  }
  try {
    if (res.status !== 200) {
      await res.body?.cancel();
      return { url, ok: false, problem: `HTTP ${res.status}` };
    }
    return { url, ok: true, body: await res.json() };
  } catch (err) {
    return { url, ok: false, problem: `unreadable answer (${errorMessage(err)})` };
  }
}
