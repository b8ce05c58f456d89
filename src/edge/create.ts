/**
 * The factory: validated config + dependencies → an EdgeRouter. The one place that turns config into
 * the small units (route matcher, key ring, watermark source, metrics), as mcrouter builds its routes;
 * the units themselves never see the config object.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { EdgeConfig } from '../config/edge.js';
import { KeyRing } from './keys.js';
import { createEdgeMetrics } from './metrics.js';
import { EdgeRouter } from './router.js';
import { compileRouteRules } from './routes.js';
import type { LocalState } from './types.js';
import { LocalWatermark, type StatusFetcher } from './watermark.js';

/** The part of the config a router needs (the proxy's listeners and upstreams are not its business). */
export type EdgeRouterConfig = Pick<EdgeConfig, 'region' | 'masterRegion' | 'routes' | 'cookie' | 'tailers'>;

export interface EdgeRouterDeps {
  /** Metrics are registered here; without one, nothing is counted. */
  readonly registry?: Registry;
  readonly log?: Logger;
  readonly now?: () => number;
  readonly fetchStatus?: StatusFetcher;
}

export function createEdgeRouter(config: EdgeRouterConfig, deps: EdgeRouterDeps = {}): EdgeRouter {
  const log = deps.log?.child({ module: 'edge' });
  const metrics =
    deps.registry === undefined
      ? undefined
      : createEdgeMetrics(deps.registry, config.region, config.masterRegion);
  const hasTailers = config.tailers.statusUrls.length > 0;
  let last: LocalState | undefined;
  const watermark = hasTailers
    ? new LocalWatermark({
        urls: config.tailers.statusUrls,
        limits: {
          region: config.region,
          maxWatermarkAgeMs: config.tailers.maxWatermarkAgeMs,
          maxLagSeconds: config.tailers.maxLagSeconds,
        },
        cacheMs: config.tailers.cacheMs,
        timeoutMs: config.tailers.timeoutMs,
        fetchStatus: deps.fetchStatus,
        now: deps.now,
        onRefresh: (state) => {
          metrics?.localState(state);
          // Transitions only: a down tailer would otherwise log twice a second.
          if (last === undefined || last.healthy !== state.healthy) {
            if (state.healthy) log?.info({ tailers: state.watermarks.length }, 'local tailers healthy');
            else
              log?.warn(
                { problem: state.problem, failSafe: config.tailers.failSafe },
                'local tailers unhealthy: failing safe to master',
              );
          }
          last = state;
        },
      })
    : undefined;
  return new EdgeRouter({
    policy: {
      localRegion: config.region,
      masterRegion: config.masterRegion,
      positionMode: config.tailers.positionMode,
      failSafe: config.tailers.failSafe,
      hasTailers,
    },
    isSafe: compileRouteRules(config.routes),
    keys: KeyRing.parse(config.cookie.keys, 'cookie.keys'),
    cookie: {
      name: config.cookie.name,
      windowMs: config.cookie.windowMs,
      secure: config.cookie.secure,
      domain: config.cookie.domain,
    },
    watermark,
    metrics,
    log,
    now: deps.now,
  });
}
