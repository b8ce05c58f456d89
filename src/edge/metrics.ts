/**
 * The edge's Prometheus metrics, registered on the registry the caller passes in (never prom-client's
 * global default registry: two routers in one process, or a test, must not collide). Every reason and
 * rejection label is created at 0 up front so that alerts on rates see the series before the first event.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CookieRejection } from './cookie.js';
import type { DecisionReason, LocalState } from './types.js';

const REJECTIONS: readonly CookieRejection[] = [
  'malformed',
  'unsupported-version',
  'unknown-key',
  'bad-signature',
  'expired',
  'future',
];

export interface EdgeMetrics {
  decision(region: string, reason: DecisionReason): void;
  cookieRejected(why: CookieRejection): void;
  cookieSet(): void;
  localState(state: LocalState): void;
}

/** The (region, reason) pairs the policy can produce, so only real series are created up front. */
function possibleDecisions(local: string, master: string): [string, DecisionReason][] {
  if (local === master)
    return [
      [master, 'write'],
      [master, 'local'],
      [master, 'bad-cookie'],
    ];
  const toMaster: DecisionReason[] = ['write', 'pinned-by-time', 'pinned-by-position', 'fail-safe'];
  const toLocal: DecisionReason[] = ['local', 'bad-cookie', 'unpinned-by-watermark'];
  return [
    ...toMaster.map((r): [string, DecisionReason] => [master, r]),
    ...toLocal.map((r): [string, DecisionReason] => [local, r]),
  ];
}

export function createEdgeMetrics(
  registry: Registry,
  localRegion: string,
  masterRegion: string,
): EdgeMetrics {
  const decisions = new Counter({
    name: 'cachetail_edge_decisions_total',
    help: 'Routing decisions by target region and reason.',
    labelNames: ['region', 'reason'] as const,
    registers: [registry],
  });
  const rejected = new Counter({
    name: 'cachetail_edge_cookie_rejected_total',
    help: 'Recent-write cookies ignored, by why (forged ones are bad-signature, unknown-key or malformed).',
    labelNames: ['why'] as const,
    registers: [registry],
  });
  const set = new Counter({
    name: 'cachetail_edge_cookies_set_total',
    help: 'Recent-write cookies set after a write.',
    registers: [registry],
  });
  const healthy = new Gauge({
    name: 'cachetail_edge_local_healthy',
    help: '1 when every local tailer was healthy at the last refresh, 0 when not (fail-safe applies).',
    registers: [registry],
  });
  const refreshes = new Counter({
    name: 'cachetail_edge_watermark_refreshes_total',
    help: "Refreshes of the local tailers' status, by outcome.",
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  for (const [region, reason] of possibleDecisions(localRegion, masterRegion))
    decisions.inc({ region, reason }, 0);
  for (const why of REJECTIONS) rejected.inc({ why }, 0);
  for (const outcome of ['healthy', 'unhealthy']) refreshes.inc({ outcome }, 0);
  const bound = new Map<string, { inc(): void }>();
  return {
    decision: (region, reason) => {
      // Bound children: no label hashing per request (the pairs are few and fixed).
      const key = `${region}\0${reason}`;
      let child = bound.get(key);
      if (child === undefined) bound.set(key, (child = decisions.labels(region, reason)));
      child.inc();
    },
    cookieRejected: (why) => rejected.inc({ why }),
    cookieSet: () => set.inc(),
    localState: (state) => {
      healthy.set(state.healthy ? 1 : 0);
      refreshes.inc({ outcome: state.healthy ? 'healthy' : 'unhealthy' });
    },
  };
}
