/**
 * The dashboard as fastify routes, for the demo's server and for any tailer's status server:
 *
 *   buildStatusServer({ status, registry, log, extraRoutes: dashboardRoutes({ status, registry }) })
 *
 * GET  /dashboard/                the page (static HTML, one script, one stylesheet; no build step)
 * GET  /dashboard/api/state       everything the page shows, as JSON (DashboardState)
 * GET  /dashboard/api/scenario    the current scenario run (demo only)
 * POST /dashboard/api/scenario    start the Jason → Monkey scenario (demo only; JSON body required)
 *
 * Without `scenario` the dashboard is read-only: the POST route does not exist, and nothing else
 * changes state. The JSON is built from allow-listed fields (statusBody), so it carries no secrets.
 */
import { readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Registry } from 'prom-client';
import { errorMessage, type ErrorCode } from '../errors.js';
import {
  readiness as readinessOf,
  statusBody,
  type ReadinessOptions,
  type TailerStatus,
} from '../observability/status.js';
import { RateWindow, summarizeMetrics } from './metrics-summary.js';
import type { RecentKeys } from './recent-keys.js';
import type { ConsistencyView, DashboardLink, DashboardState, RegionView, ScenarioControl } from './types.js';

export interface DashboardDeps {
  /** The tailer's status source (the same function the status server uses). */
  status: () => TailerStatus;
  /** The registry holding the tailer's metrics (createTailerMetrics). */
  registry: Registry;
  readiness?: ReadinessOptions;
  /** Recent invalidated keys (see recordDeliveries); without it the page says "not recorded". */
  recentKeys?: RecentKeys;
  /** Both regions side by side (the demo knows them; a lone tailer does not). */
  regions?: () => Promise<RegionView[]>;
  /** The consistency sampler's figures (sampler.report()); null or absent = "not enabled". */
  consistency?: () => ConsistencyView | null;
  kafka?: () => DashboardState['kafka'];
  /** Present only in the demo: enables the "play the scenario" button. */
  scenario?: ScenarioControl;
  links?: readonly DashboardLink[];
  now?: () => number;
}

export const DASHBOARD_PREFIX = '/dashboard';

const PAGE_DIR = new URL('./page/', import.meta.url);
const ASSETS: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
};

// The page loads only its own script and stylesheet and talks only to this server.
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Registers the dashboard on `app`; pass the result as buildStatusServer's `extraRoutes`. */
export function dashboardRoutes(deps: DashboardDeps): (app: FastifyInstance) => void {
  const now = deps.now ?? Date.now;
  const rate = new RateWindow();
  const assets = new Map<string, Promise<Buffer>>();
  const asset = (name: string): Promise<Buffer> => {
    let pending = assets.get(name);
    if (!pending) {
      pending = readFile(new URL(name, PAGE_DIR));
      // A failed read is retried next time rather than cached.
      pending.catch(() => assets.delete(name));
      assets.set(name, pending);
    }
    return pending;
  };
  const sendAsset = async (name: string, reply: FastifyReply) => {
    const body = await asset(name);
    reply.header('content-security-policy', CSP);
    reply.header('referrer-policy', 'no-referrer');
    return reply.type(ASSETS[name]).send(body);
  };

  return (app) => {
    app.get(DASHBOARD_PREFIX, async (_req, reply) => reply.redirect(`${DASHBOARD_PREFIX}/`));
    app.get(`${DASHBOARD_PREFIX}/`, async (_req, reply) => sendAsset('index.html', reply));
    app.get(`${DASHBOARD_PREFIX}/dashboard.js`, async (_req, reply) => sendAsset('dashboard.js', reply));
    app.get(`${DASHBOARD_PREFIX}/dashboard.css`, async (_req, reply) => sendAsset('dashboard.css', reply));

    app.get(`${DASHBOARD_PREFIX}/api/state`, async () => dashboardState(deps, rate, now()));

    const scenario = deps.scenario;
    if (!scenario) return;
    app.get(`${DASHBOARD_PREFIX}/api/scenario`, () => Promise.resolve({ run: scenario.current() }));
    app.post(`${DASHBOARD_PREFIX}/api/scenario`, async (req, reply) => {
      // A cross-site HTML form can post text/plain or form data without a CORS preflight, but not
      // JSON: requiring JSON keeps other pages in the browser from pressing the button.
      if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) {
        return reply.code(415).send({
          error: {
            code: 'UNSUPPORTED_MEDIA_TYPE' satisfies ErrorCode,
            message: 'POST a JSON body ({}) with content-type application/json',
          },
        });
      }
      const { run, started } = scenario.start();
      return reply.code(started ? 202 : 409).send({ run, started });
    });
  };
}

/** Everything the page shows, at `at`. Never throws: a failing part is reported in its place. */
export async function dashboardState(
  deps: DashboardDeps,
  rate: RateWindow,
  at: number,
): Promise<DashboardState> {
  let tailer: DashboardState['tailer'];
  let acknowledgedKeys: number | undefined;
  try {
    const status = deps.status();
    tailer = statusBody(status, readinessOf(status, deps.readiness));
    acknowledgedKeys = tailer.stats?.keysDelivered;
  } catch (err) {
    tailer = { error: `the tailer status could not be read: ${errorMessage(err)}` };
  }
  const problems: string[] = [];
  let regions: RegionView[] | null = null;
  if (deps.regions) {
    try {
      regions = await deps.regions();
    } catch (err) {
      problems.push(`regions: ${errorMessage(err)}`);
    }
  }
  return {
    now: at,
    mode: deps.scenario ? 'demo' : 'read-only',
    tailer,
    metrics: await summarizeMetrics(deps.registry, rate, at, acknowledgedKeys),
    recentKeys: deps.recentKeys
      ? { recorded: deps.recentKeys.recorded, keys: deps.recentKeys.list(20) }
      : null,
    regions,
    consistency: deps.consistency?.() ?? null,
    kafka: deps.kafka?.() ?? null,
    links: [...(deps.links ?? [])],
    problems,
  };
}
