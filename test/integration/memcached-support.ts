/**
 * Shared pieces of the memcached integration tests: extra real memcached servers owned by one test file
 * (started and stopped by PID under a temp dir), and independent ways to look at each server directly —
 * memjs for get/set/add, the text protocol for `stats`, and the `-vv` log, which names every key a
 * server was asked to delete.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import memjs from 'memjs';
import { startMemcached, type MemcachedServer } from '../../src/devcluster/memcached.js';
import { isAlive, stopRegistered } from '../../src/devcluster/proc.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';
import { memcachedStats } from '../helpers/memcached-stats.js';

export interface TestServers {
  baseDir: string;
  servers: MemcachedServer[];
  /** Per-server memjs clients (one server each, so no routing of their own). */
  direct: memjs.Client[];
  start(name: string, opts?: { port?: number; verbose?: boolean }): Promise<MemcachedServer>;
  stop(): Promise<void>;
}

export async function startTestServers(
  count: number,
  opts: { verbose?: boolean } = {},
): Promise<TestServers> {
  const baseDir = await mkdtemp(join(tmpdir(), 'cachetail-mc-test-'));
  const ts: TestServers = {
    baseDir,
    servers: [],
    direct: [],
    start: (name, o = {}) => startMemcached({ baseDir, name, ...o }),
    stop: async () => {
      for (const c of ts.direct) c.close();
      // A SIGSTOPped server would sit out SIGTERM's grace period: wake every one first.
      for (const s of ts.servers) if (isAlive(s.proc.pid)) process.kill(s.proc.pid, 'SIGCONT');
      await stopRegistered(baseDir, 2_000);
      await rm(baseDir, { recursive: true, force: true });
    },
  };
  for (let i = 0; i < count; i++) {
    const server = await ts.start(`mc${i}`, { verbose: opts.verbose });
    ts.servers.push(server);
    ts.direct.push(directClient(server.address));
  }
  return ts;
}

export function directClient(address: string): memjs.Client {
  return memjs.Client.create(address, { retries: 0, timeout: 2, logger: { log: () => undefined } });
}

/** Which of `keys` are stored on the server behind `client` (one get each). */
export async function presentKeys(client: memjs.Client, keys: readonly string[]): Promise<string[]> {
  const values = await Promise.all(keys.map((k) => client.get(k)));
  return keys.filter((_, i) => values[i]?.value !== null && values[i]?.value !== undefined);
}

export async function setAll(client: memjs.Client, keys: readonly string[], value = 'cached'): Promise<void> {
  await Promise.all(keys.map((k) => client.set(k, value, {})));
}

/** Keys a `-vv` memcached logged as "Deleting <key>", in order, from byte `from` of its log. */
export async function deletesInLog(server: MemcachedServer, from = 0): Promise<string[]> {
  const text = (await readFile(server.proc.logFile)).subarray(from).toString('utf8');
  return [...text.matchAll(/^Deleting (.*)$/gm)].map((m) => m[1]);
}

export async function logSize(server: MemcachedServer): Promise<number> {
  return (await readFile(server.proc.logFile)).length;
}

/** The server's `stats` counters (text protocol), e.g. cmd_flush, delete_hits, delete_misses. */
export const serverStats = memcachedStats;

/** A silent logger unless CACHETAIL_TEST_LOG is set; tests that assert on lines pass their own. */
export function testLogger(): Logger {
  return createLogger(process.env.CACHETAIL_TEST_LOG ?? 'silent');
}

/** Distinct values in first-seen order. */
export function unique<T>(values: Iterable<T>): T[] {
  return [...new Set(values)];
}
