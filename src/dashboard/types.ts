/**
 * The dashboard's JSON contract (GET /dashboard/api/state and /dashboard/api/scenario) and what a host
 * plugs into it. The page (page/dashboard.js) reads exactly these fields. Everything optional is
 * optional because a tailer's status server has only the tailer: regions, the scenario and the
 * consistency sampler exist in the demo (or, for the sampler, once it is built).
 */
import type { StatusBody } from '../observability/status.js';
import type { ConsistencyReport } from '../contracts/consistency.js';
import type { MetricsSummary } from './metrics-summary.js';
import type { RecentKey } from './recent-keys.js';

export interface DatabaseView {
  role: 'primary' | 'replica';
  /** host:port */
  address: string;
  /** @@gtid_binlog_pos (primary) or @@gtid_slave_pos (replica). */
  gtid: string | null;
  /** Replica only: Seconds_Behind_Master (null while the SQL thread is stopped). */
  secondsBehindMaster?: number | null;
  ioThreadRunning?: boolean | null;
  sqlThreadRunning?: boolean | null;
  /** Replica only: transactions the primary has logged that the replica has not applied (per domain). */
  transactionsBehind?: number | null;
  error?: string;
}

export interface CacheView {
  /** host:port */
  address: string;
  items: number | null;
  getHits: number | null;
  getMisses: number | null;
  deleteHits: number | null;
  error?: string;
}

/** One watched key: its value in the region's database and in the region's cache. */
export interface SampleView {
  key: string;
  database: string | null;
  /** null = not cached; '(tombstone)' = hold-off tombstone. */
  cache: string | null;
}

export interface RegionView {
  name: string;
  role: 'master' | 'replica';
  database: DatabaseView;
  cache: CacheView;
  /** The region's demo app, when there is one. */
  appUrl?: string;
  sample?: SampleView;
}

/** The consistency sampler's report (src/sampler) and the target it is judged against. */
export interface ConsistencyView {
  report: ConsistencyReport;
  /** e.g. 0.99999 of checks consistent at `withinMs` after the delete. */
  target: { fraction: number; withinMs: number } | null;
}

export type StepTone = 'stale' | 'fresh' | 'neutral';

export interface StepValue {
  label: string;
  value: string;
  tone?: StepTone;
}

export interface ScenarioStep {
  /** 1-based, in order. */
  n: number;
  /** Stable id (tests and the page key on it). */
  id: string;
  title: string;
  detail: string;
  values: StepValue[];
  at: number;
}

export interface ScenarioRun {
  id: number;
  state: 'running' | 'done' | 'failed';
  startedAt: number;
  finishedAt: number | null;
  steps: ScenarioStep[];
  error: string | null;
  /** The name the replica region serves at the end ("Monkey" when the delete happened). */
  finalName: string | null;
}

/** The demo's scenario runner; absent on a tailer's status server (the dashboard is then read-only). */
export interface ScenarioControl {
  /** Starts a run unless one is running; returns the run (the existing one when busy). */
  start(): { run: ScenarioRun; started: boolean };
  current(): ScenarioRun | null;
}

export interface DashboardLink {
  label: string;
  url: string;
}

export interface DashboardState {
  now: number;
  /** 'demo' when the scenario can be played, else 'read-only'. */
  mode: 'demo' | 'read-only';
  tailer: StatusBody | { error: string };
  metrics: MetricsSummary;
  recentKeys: { recorded: number; keys: RecentKey[] } | null;
  regions: RegionView[] | null;
  consistency: ConsistencyView | null;
  kafka: { state: string; brokers: string[]; topic: string; watermark: string | null } | null;
  links: DashboardLink[];
  /** Parts that could not be read this time (shown on the page, never a 500). */
  problems: string[];
}
