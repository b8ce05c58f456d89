// Starts one server line's primary + replica pair and memcached tiers once per `vitest run` and hands
// their addresses to that line's test files through provide/inject (vitest.config.ts makes one project
// per line; the line comes in as `serverLine`). Kafka is started on demand by the first test that calls
// ensureKafka(); stop() below stops it too, because it is listed in the cluster's PID registry.
import type { TestProject } from 'vitest/node';
import { parseServerLine, startCluster } from '../../src/devcluster/index.js';
import type { ClusterInfo } from '../../src/devcluster/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: ClusterInfo;
    serverLine: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const verbose = process.env.CACHETAIL_DEVCLUSTER_VERBOSE === '1';
  const line = parseServerLine(String(project.config.provide.serverLine ?? 'mariadb-10.11'));
  const log = (msg: string) => console.log(`[${line}] ${msg}`);
  const cluster = await startCluster({
    line,
    // A root is built (minutes) only once per machine; say so even when not verbose.
    log: verbose ? log : (msg) => (/root/.test(msg) ? log(msg) : undefined),
  });
  project.provide('cluster', cluster.info);
  return async () => {
    // CACHETAIL_KEEP_DEVCLUSTER=1 keeps datadirs and server logs for a post-mortem.
    await cluster.stop({ keepFiles: process.env.CACHETAIL_KEEP_DEVCLUSTER === '1' });
  };
}
