/**
 * The dashboard's routes on a tailer's status server: the page and its assets, the state JSON (exact),
 * read-only without a scenario, and the scenario button's guard (JSON only, one run at a time).
 */
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import {
  RecentKeys,
  dashboardRoutes,
  type DashboardDeps,
  type ScenarioControl,
  type ScenarioRun,
} from '../../../src/dashboard/index.js';
import { createTailerMetrics } from '../../../src/observability/metrics.js';
import { buildStatusServer } from '../../../src/observability/status-server.js';
import { statusIn, WATERMARK } from '../observability/fixtures.js';

const apps: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

function server(extra: Partial<DashboardDeps> = {}) {
  const registry = new Registry();
  createTailerMetrics(registry);
  const status = () => statusIn('streaming', { stats: { keysDelivered: 7 } });
  const app = buildStatusServer({
    status,
    registry,
    extraRoutes: dashboardRoutes({ status, registry, now: () => 1_700_000_001_000, ...extra }),
  });
  apps.push(app);
  return app;
}

class FakeScenario implements ScenarioControl {
  run: ScenarioRun | null = null;
  started = 0;
  start() {
    if (this.run?.state === 'running') return { run: this.run, started: false };
    this.started++;
    this.run = {
      id: this.started,
      state: 'running',
      startedAt: 1,
      finishedAt: null,
      steps: [],
      error: null,
      finalName: null,
    };
    return { run: this.run, started: true };
  }
  current() {
    return this.run;
  }
}

describe('dashboard routes', () => {
  it('serves the page with a strict CSP, its script and its stylesheet', async () => {
    const app = server();
    const page = await app.inject({ method: 'GET', url: '/dashboard/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.body).toContain('<script type="module" src="dashboard.js"></script>');
    const js = await app.inject({ method: 'GET', url: '/dashboard/dashboard.js' });
    expect([js.statusCode, js.headers['content-type']]).toEqual([200, 'text/javascript; charset=utf-8']);
    const css = await app.inject({ method: 'GET', url: '/dashboard/dashboard.css' });
    expect([css.statusCode, css.headers['content-type']]).toEqual([200, 'text/css; charset=utf-8']);
    const bare = await app.inject({ method: 'GET', url: '/dashboard' });
    expect([bare.statusCode, bare.headers.location]).toEqual([302, '/dashboard/']);
  });

  it('answers the state of a lone tailer: read-only, no regions, no recorded keys, sampler not enabled', async () => {
    const res = await server().inject({ method: 'GET', url: '/dashboard/api/state' });
    expect(res.statusCode).toBe(200);
    const state = res.json<Record<string, unknown>>();
    expect(state).toMatchObject({
      now: 1_700_000_001_000,
      mode: 'read-only',
      tailer: {
        region: 'eu-west',
        state: 'streaming',
        ready: true,
        watermark: WATERMARK,
        lagSeconds: 0.5,
        lastError: null,
        stats: { keysDelivered: 7 },
      },
      recentKeys: null,
      regions: null,
      consistency: null,
      kafka: null,
      links: [],
      problems: [],
    });
    expect((state.metrics as { keysInvalidated: number }).keysInvalidated).toBe(7);
  });

  it('has no scenario routes when read-only', async () => {
    const app = server();
    const post = await app.inject({ method: 'POST', url: '/dashboard/api/scenario', payload: {} });
    expect(post.statusCode).toBe(404);
    const get = await app.inject({ method: 'GET', url: '/dashboard/api/scenario' });
    expect(get.statusCode).toBe(404);
  });

  it('reports a failing regions source in problems instead of failing the request', async () => {
    const res = await server({
      regions: () => Promise.reject(new Error('replica unreachable')),
    }).inject({ method: 'GET', url: '/dashboard/api/state' });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ regions: unknown; problems: string[] }>()).toMatchObject({
      regions: null,
      problems: ['regions: replica unreachable'],
    });
  });

  it('lists recorded keys newest first', async () => {
    const ring = new RecentKeys(5);
    ring.add({ key: 'user:1', gtid: '0-1-1', commitTimeMs: 1, writerTimeMs: null, acknowledgedAt: 2 });
    ring.add({ key: 'user:2', gtid: '0-1-2', commitTimeMs: 3, writerTimeMs: 3, acknowledgedAt: 4 });
    const res = await server({ recentKeys: ring }).inject({ method: 'GET', url: '/dashboard/api/state' });
    expect(res.json<{ recentKeys: unknown }>().recentKeys).toEqual({
      recorded: 2,
      keys: [
        { key: 'user:2', gtid: '0-1-2', commitTimeMs: 3, writerTimeMs: 3, acknowledgedAt: 4 },
        { key: 'user:1', gtid: '0-1-1', commitTimeMs: 1, writerTimeMs: null, acknowledgedAt: 2 },
      ],
    });
  });

  it('starts the scenario on a JSON POST only, one run at a time', async () => {
    const scenario = new FakeScenario();
    const app = server({ scenario });
    const state = await app.inject({ method: 'GET', url: '/dashboard/api/state' });
    expect(state.json<{ mode: string }>().mode).toBe('demo');

    // What a cross-site form could send without a preflight.
    const form = await app.inject({
      method: 'POST',
      url: '/dashboard/api/scenario',
      headers: { 'content-type': 'text/plain' },
      payload: '{}',
    });
    expect(form.statusCode).toBe(415);
    expect(scenario.started).toBe(0);

    const first = await app.inject({ method: 'POST', url: '/dashboard/api/scenario', payload: {} });
    expect(first.statusCode).toBe(202);
    expect(first.json()).toMatchObject({ started: true, run: { id: 1, state: 'running' } });
    const second = await app.inject({ method: 'POST', url: '/dashboard/api/scenario', payload: {} });
    expect(second.statusCode).toBe(409);
    expect(second.json()).toMatchObject({ started: false, run: { id: 1 } });
    const current = await app.inject({ method: 'GET', url: '/dashboard/api/scenario' });
    expect(current.json()).toMatchObject({ run: { id: 1, state: 'running' } });
    expect(scenario.started).toBe(1);
  });
});
