import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createEdgeMetrics } from '../../../src/edge/metrics.js';

const series = async (registry: Registry, name: string): Promise<string[]> =>
  (await registry.metrics()).split('\n').filter((l) => l.startsWith(name + '{') || l.startsWith(name + ' '));

describe('edge metrics', () => {
  it('creates exactly the series the policy can produce, at 0, on the registry passed in', async () => {
    const registry = new Registry();
    createEdgeMetrics(registry, 'eu', 'us');
    expect(await series(registry, 'cachetail_edge_decisions_total')).toEqual([
      'cachetail_edge_decisions_total{region="us",reason="write"} 0',
      'cachetail_edge_decisions_total{region="us",reason="pinned-by-time"} 0',
      'cachetail_edge_decisions_total{region="us",reason="pinned-by-position"} 0',
      'cachetail_edge_decisions_total{region="us",reason="fail-safe"} 0',
      'cachetail_edge_decisions_total{region="eu",reason="local"} 0',
      'cachetail_edge_decisions_total{region="eu",reason="bad-cookie"} 0',
      'cachetail_edge_decisions_total{region="eu",reason="unpinned-by-watermark"} 0',
    ]);
    const master = new Registry();
    createEdgeMetrics(master, 'us', 'us');
    expect(await series(master, 'cachetail_edge_decisions_total')).toEqual([
      'cachetail_edge_decisions_total{region="us",reason="write"} 0',
      'cachetail_edge_decisions_total{region="us",reason="local"} 0',
      'cachetail_edge_decisions_total{region="us",reason="bad-cookie"} 0',
    ]);
  });

  it('counts decisions, rejections, cookies and the local state', async () => {
    const registry = new Registry();
    const m = createEdgeMetrics(registry, 'eu', 'us');
    m.decision('us', 'pinned-by-position');
    m.decision('us', 'pinned-by-position');
    m.cookieRejected('bad-signature');
    m.cookieSet();
    m.localState({ healthy: false, problem: 'x' });
    expect(await series(registry, 'cachetail_edge_decisions_total')).toContain(
      'cachetail_edge_decisions_total{region="us",reason="pinned-by-position"} 2',
    );
    expect(await series(registry, 'cachetail_edge_cookie_rejected_total')).toEqual([
      'cachetail_edge_cookie_rejected_total{why="malformed"} 0',
      'cachetail_edge_cookie_rejected_total{why="unsupported-version"} 0',
      'cachetail_edge_cookie_rejected_total{why="unknown-key"} 0',
      'cachetail_edge_cookie_rejected_total{why="bad-signature"} 1',
      'cachetail_edge_cookie_rejected_total{why="expired"} 0',
      'cachetail_edge_cookie_rejected_total{why="future"} 0',
    ]);
    expect(await series(registry, 'cachetail_edge_cookies_set_total')).toEqual([
      'cachetail_edge_cookies_set_total 1',
    ]);
    expect(await series(registry, 'cachetail_edge_local_healthy')).toEqual([
      'cachetail_edge_local_healthy 0',
    ]);
    expect(await series(registry, 'cachetail_edge_watermark_refreshes_total')).toEqual([
      'cachetail_edge_watermark_refreshes_total{outcome="healthy"} 0',
      'cachetail_edge_watermark_refreshes_total{outcome="unhealthy"} 1',
    ]);
  });
});
