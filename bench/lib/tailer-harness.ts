/**
 * Shared pieces of bench/tailer.bench.ts and its child processes: a real tailer built exactly as
 * `cachetail tail` builds it (createTailer from a config parsed by tailerConfigSchema, with metrics),
 * whose memcached sink records when each transaction was acknowledged; a monotonic clock that all
 * processes of the benchmark share; percentiles; forking a child that talks over IPC.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { tailerConfigSchema, type TailerConfigInput } from '../../src/config/schema.js';
import { createLogger } from '../../src/observability/logger.js';
import { createTailerMetrics } from '../../src/observability/metrics.js';
import type { InvalidationBatch } from '../../src/sinks/sink.js';
import type { MemcachedSinkStats } from '../../src/sinks/memcached/sink.js';
import { createTailer } from '../../src/wiring/memcached-tailer.js';
import type { Tailer } from '../../src/tailer/tailer.js';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Milliseconds on CLOCK_MONOTONIC (process.hrtime), which is one clock for every process on the
 * machine — unlike performance.now(), whose origin is per process. The observer, the load generator
 * and the tailer stamp events in different processes; their stamps are compared directly.
 */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export interface SourceInfo {
  host: string;
  port: number;
  user: string;
  password: string;
}

export interface BenchTailer {
  tailer: Tailer;
  /** GTID → when the sink acknowledged that transaction (nowMs; for a spilled one, its last chunk). */
  acks: Map<string, number>;
  /** Keys the sink acknowledged, summed over deliveries. */
  keysAcked(): number;
  /** The real sink's counters (errors, timeouts, retries: all 0 in a clean run). */
  sinkStats: MemcachedSinkStats;
  stop(): Promise<void>;
}

/**
 * A tailer as production builds it, plus `onAck` after every acknowledged delivery. The sink is the
 * real MemcachedSink createTailer made; its `deliver` is wrapped on the instance (the tailer calls it
 * through the same object), so construction, journal, spill and metrics are exactly `cachetail tail`'s.
 */
export async function startBenchTailer(opts: {
  source: SourceInfo;
  serverId: number;
  memcached: string;
  stateDir: string;
  /** Overrides of the `batch` section (defaults otherwise). */
  batch?: NonNullable<TailerConfigInput['batch']>;
  onAck?: (batch: InvalidationBatch, at: number) => void;
}): Promise<BenchTailer> {
  const config = tailerConfigSchema.parse({
    source: { ...opts.source, serverId: opts.serverId, heartbeatMs: 1_000 },
    memcached: { servers: [opts.memcached] },
    stateDir: opts.stateDir,
    start: { kind: 'current' },
    batch: opts.batch,
    log: { level: 'error' },
  } satisfies TailerConfigInput);
  // stdout carries the benchmark's tables; the tailer's (error-level) log goes to stderr.
  const log = createLogger(config.log.level, pino.destination(2));
  const metrics = createTailerMetrics(new Registry(), { servers: config.memcached.servers });
  const { tailer, sink } = createTailer(config, log, metrics);
  const acks = new Map<string, number>();
  let keys = 0;
  const deliver = sink.deliver.bind(sink);
  sink.deliver = async (batch, signal) => {
    await deliver(batch, signal);
    const at = nowMs();
    keys += batch.keys.length;
    for (const t of batch.transactions) if (t.gtid !== undefined) acks.set(t.gtid, at);
    opts.onAck?.(batch, at);
  };
  await tailer.start();
  return {
    tailer,
    acks,
    keysAcked: () => keys,
    sinkStats: sink.stats,
    stop: async () => {
      await tailer.stop(5_000);
      await sink.close();
      // stop() can resolve while a checkpoint write begun by the interval timer is still in flight (it
      // does not wait for it); removing the state dir under it fails that write's rename and logs an
      // error. So: no temp file seen in three checks 150 ms apart (or 3 s) before the caller removes it.
      for (let quiet = 0, i = 0; quiet < 3 && i < 20; i++) {
        await new Promise((resolve) => setTimeout(resolve, 150));
        quiet = (await readdir(opts.stateDir)).some((f) => f.endsWith('.tmp')) ? 0 : quiet + 1;
      }
    },
  };
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function sortedNumbers(xs: Iterable<number>): Float64Array {
  return Float64Array.from(xs).sort();
}

/** Forks a TypeScript child of bench/lib with an IPC channel; its stdout/stderr go to our stderr. */
export function forkChild(file: string, arg: unknown): ChildProcess {
  return fork(path.join(root, 'bench', 'lib', file), [JSON.stringify(arg)], {
    cwd: root,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 2, 2, 'ipc'],
    // Structured clone: typed arrays and NaN cross intact (JSON would turn NaN into null).
    serialization: 'advanced',
  });
}

/** The next IPC message of `child` whose `type` is `type`; rejects if the child exits first. */
export function message<T extends { type: string }>(child: ChildProcess, type: T['type']): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown) => {
      if ((m as { type?: string }).type !== type) return;
      cleanup();
      resolve(m as T);
    };
    const onExit = (code: number | null, signal: string | null) => {
      cleanup();
      reject(new Error(`child ${child.pid} exited (${signal ?? code}) before sending '${type}'`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Stops a child we forked (by its own handle, SIGTERM then SIGKILL) and waits for it to go. */
export async function endChild(child: ChildProcess, ms = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  await gone;
  clearTimeout(timer);
}

/** memcached's delete_hits + delete_misses: the server's own count of deletes received. */
export function serverDeletes(address: string): Promise<number> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), host);
    let text = '';
    sock.setTimeout(5_000, () => sock.destroy(new Error(`memcached ${address}: stats timed out`)));
    sock.on('error', reject);
    sock.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (!text.endsWith('END\r\n')) return;
      sock.end();
      const stat = (name: string) => Number(new RegExp(`^STAT ${name} (\\d+)\r$`, 'm').exec(text)?.[1]);
      resolve(stat('delete_hits') + stat('delete_misses'));
    });
    sock.write('stats\r\n');
  });
}
