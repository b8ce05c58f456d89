/**
 * The edge router: recent-write pinning for multi-region reads. Three shapes share one EdgeRouter built
 * by createEdgeRouter(config, deps): edgePlugin (fastify), createEdgeMiddleware (node/Express/Connect)
 * and buildEdgeProxy (the `cachetail edge` reverse proxy). See docs/edge.md. Published as
 * `cachetail/edge`, with loadEdgeConfig and the config schema that router is built from.
 */
export { edgeConfigSchema, type EdgeConfig, type EdgeConfigInput } from '../config/edge.js';
export { loadEdgeConfig } from './config.js';
export { createEdgeRouter, type EdgeRouterConfig, type EdgeRouterDeps } from './create.js';
export { EdgeRouter, GTID_HEADER, REGION_HEADER, WRITE_HEADER, type ResponseHeaders } from './router.js';
export { edgePlugin, type EdgePluginOptions } from './plugin.js';
export { createEdgeMiddleware, type EdgeMiddleware, type EdgeMiddlewareOptions } from './middleware.js';
export { buildEdgeAdmin, buildEdgeProxy, type EdgeAdminOptions, type EdgeProxyOptions } from './proxy.js';
export { KeyRing, MIN_SECRET_LENGTH } from './keys.js';
export type { CookieReading, CookieRejection } from './cookie.js';
export { DECISION_REASONS, type Decision, type DecisionReason, type LocalState } from './types.js';
