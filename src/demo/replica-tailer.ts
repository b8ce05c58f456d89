/**
 * The replica region's tailer, as `cachetail tail` builds it, with the consistency sampler an operator
 * would run next to it and the dashboard's recent-keys list fed from its deliveries.
 */
import { join } from 'node:path';
import type memjs from 'memjs';
import type { Pool } from 'mysql2/promise';
import { Registry } from 'prom-client';
import { tailerConfigSchema, type TailerConfig } from '../config/schema.js';
import { observeDeliveries, RecentKeys, type DashboardDeps } from '../dashboard/index.js';
import type { ClusterInfo } from '../devcluster/index.js';
import type { Logger } from '../observability/logger.js';
import { createTailerMetrics } from '../observability/metrics.js';
import {
  createConsistencySampler,
  memcachedEnvelopeReader,
  type ConsistencySampler,
} from '../sampler/index.js';
import { tailerStatus } from '../tailer/status.js';
import { createTailer } from '../wiring/memcached-tailer.js';
import { loadUser, loginOf, PROFILE_TYPE } from './app.js';
import type { Cleanups } from './cleanups.js';

export interface ReplicaTailerOptions {
  region: string;
  info: ClusterInfo;
  /** The demo's directory; the tailer keeps its state in it. */
  dir: string;
  log: Logger;
  /** The replica region's database and cache, for the sampler. */
  db: Pool;
  cache: memjs.Client;
}

export interface ReplicaTailer {
  config: TailerConfig;
  /** Holds the tailer's and the sampler's metrics. */
  registry: Registry;
  recentKeys: RecentKeys;
  sampler: ConsistencySampler;
  status: DashboardDeps['status'];
}

/** Resolves once the tailer streams; what it started is stopped by `cleanups`. */
export async function startReplicaTailer(
  opts: ReplicaTailerOptions,
  cleanups: Cleanups,
): Promise<ReplicaTailer> {
  const config = replicaTailerConfig(opts.region, opts.info, opts.dir);
  const registry = new Registry();
  const metrics = createTailerMetrics(registry, { servers: config.memcached.servers });
  const { tailer, sink, checkpointPath } = createTailer(config, opts.log, metrics);
  const recentKeys = new RecentKeys();
  const sampler = demoSampler(opts, registry);
  cleanups.add(() => Promise.resolve(sampler.stop()));
  observeDeliveries(sink, (batch) => {
    recentKeys.addBatch(batch, Date.now());
    sampler.observe(batch.transactions);
  });
  cleanups.add(() => sink.close());
  cleanups.add(() => tailer.stop(2_000));
  await tailer.start();
  const status = () => tailerStatus(tailer, config.region, checkpointPath);
  return { config, registry, recentKeys, sampler, status };
}

function replicaTailerConfig(region: string, info: ClusterInfo, dir: string): TailerConfig {
  return tailerConfigSchema.parse({
    region,
    source: {
      host: info.replica.host,
      port: info.replica.port,
      user: info.tailerUser.user,
      password: info.tailerUser.password,
    },
    memcached: { servers: [info.memcached.replica] },
    stateDir: join(dir, 'tailer-state'),
  });
}

/**
 * The consistency sampler as an operator would run it, but checking every key (a demo makes few):
 * 1 s and 10 s after each delete, the region's cache must not hold anything older than its replica.
 */
function demoSampler(opts: ReplicaTailerOptions, registry: Registry): ConsistencySampler {
  return createConsistencySampler({
    every: 1,
    delaysMs: [1_000, 10_000],
    readCache: memcachedEnvelopeReader(opts.cache, PROFILE_TYPE),
    readTruth: async (key) => {
      const login = loginOf(key);
      return JSON.stringify(login === null ? null : await loadUser(opts.db, login));
    },
    registry,
    log: opts.log.child({ module: 'sampler' }),
  });
}
