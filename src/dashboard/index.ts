/**
 * The dashboard: a static page and its JSON endpoints, served by the demo and mountable read-only on
 * any tailer's status server (`extraRoutes: dashboardRoutes({ status, registry, recentKeys })`).
 */
export { DASHBOARD_PREFIX, dashboardRoutes, dashboardState, type DashboardDeps } from './routes.js';
export {
  DEFAULT_RECENT_KEYS,
  RecentKeys,
  observeDeliveries,
  recordDeliveries,
  type RecentKey,
} from './recent-keys.js';
export {
  RateWindow,
  histogramSummary,
  quantile,
  summarizeMetrics,
  type HistogramBucket,
  type HistogramSummary,
  type MetricsSummary,
} from './metrics-summary.js';
export type * from './types.js';
