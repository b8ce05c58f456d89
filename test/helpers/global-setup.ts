// Starts the shared MariaDB pair + memcached tiers once per `vitest run` and hands their addresses to
// every test file through provide/inject. Kafka is started on demand by the first test that calls
// ensureKafka(); stop() below stops it too, because it is listed in the cluster's PID registry.
import type { TestProject } from 'vitest/node';
import { startCluster } from '../../src/devcluster/index.js';
import type { ClusterInfo } from '../../src/devcluster/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: ClusterInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const verbose = process.env.CACHETAIL_DEVCLUSTER_VERBOSE === '1';
  const cluster = await startCluster({ log: verbose ? (msg) => console.log(msg) : undefined });
  project.provide('cluster', cluster.info);
  return async () => {
    // CACHETAIL_KEEP_DEVCLUSTER=1 keeps datadirs and server logs for a post-mortem.
    await cluster.stop({ keepFiles: process.env.CACHETAIL_KEEP_DEVCLUSTER === '1' });
  };
}
