/**
 * One latency phase of bench/tailer.bench.ts: a real tailer in this process, the independent binlog
 * observer and the delete probe in their own processes, the load generator in a third; load for
 * `warmup + measure` seconds, figures from the `measure` window only.
 *
 * Tailer-added latency of a transaction = when the tailer's sink had it acknowledged by memcached −
 * when its GTID event reached the observer. Both read the same replica binlog through their own dump
 * connection, so the difference is the tailer's decode + assembly + batching + delete round trip.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import type { RowDataPacket } from 'mysql2/promise';
import type { Cluster } from '../../src/devcluster/index.js';
import { registeredPids } from '../../src/devcluster/proc.js';
import { cpuWindow, type CpuWindow } from './cpu.js';
import type { LoadArgs } from './tailer-load.js';
import {
  endChild,
  forkChild,
  message,
  nowMs,
  percentile,
  sortedNumbers,
  startBenchTailer,
  type SourceInfo,
} from './tailer-harness.js';

export interface LatencyPhase {
  rate: number;
  warmupSeconds: number;
  measureSeconds: number;
  /** slave_parallel_threads on the replica (0 = its single SQL thread). */
  replicaThreads: number;
}

export interface Summary {
  count: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface LatencyResult {
  phase: LatencyPhase;
  primaryRate: number;
  replicaRate: number;
  loadErrors: number;
  /** Window transactions the observer saw that the tailer never acknowledged (must be 0). */
  missing: number;
  tailer: Summary;
  /** Commit (XID) event arrival − GTID event arrival at the observer: how spread a transaction is. */
  spread: Summary;
  probe: Summary;
  /** Tailer-added latency measured from the commit event instead of the GTID event. */
  fromCommit: Summary;
  /** Replica behind the primary when the load stopped, in transactions (by GTID sequence). */
  lagAtEnd: number;
  /** This (the tailer's) process during the window: event-loop delay p99/max, GC pauses. */
  loopDelayP99: number;
  loopDelayMax: number;
  gcMs: number;
  gcMaxMs: number;
  /** The sink's failed attempts (a timeout or error, then a retry): 0 in a clean run. */
  sinkErrors: number;
  sinkTimeouts: number;
  /** CPU seconds per process over the window (tailer = this process), and the machine's. */
  cpu: CpuWindow;
  /**
   * Samples below 0: the observer stamped the GTID after the tailer's ack — it was itself waiting for
   * a CPU. Their count and the lowest value show the measurement's own noise.
   */
  negative: number;
  /** Transactions with keys per sink delivery, averaged over the phase: how much the queue batched. */
  perDelivery: number;
}

export function summarize(xs: Iterable<number>): Summary {
  const s = sortedNumbers(xs);
  return {
    count: s.length,
    min: s.length > 0 ? s[0] : NaN,
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    max: s.length > 0 ? s[s.length - 1] : NaN,
  };
}

interface Arrivals {
  type: 'arrivals';
  gtids: string[];
  gtidAt: Float64Array;
  commitAt: Float64Array;
}
interface Done {
  type: 'done';
  t0: number;
  doneAt: Float64Array;
  errors: number;
}
interface Rtts {
  type: 'rtts';
  at: Float64Array;
  rtt: Float64Array;
}

async function setReplicaThreads(cluster: Cluster, threads: number): Promise<void> {
  // Optimistic parallel apply still commits in the primary's order, so the replica binlog keeps it.
  await cluster.query(
    'replica',
    `STOP SLAVE; SET GLOBAL slave_parallel_threads = ${threads};
     SET GLOBAL slave_parallel_mode = '${threads > 0 ? 'optimistic' : 'conservative'}'; START SLAVE`,
  );
}

async function gtidPos(cluster: Cluster, server: 'primary' | 'replica'): Promise<string> {
  const rows = await cluster.query<RowDataPacket[]>(server, 'SELECT @@global.gtid_binlog_pos AS pos');
  return String(rows[0]?.pos ?? '');
}

const seqOf = (gtid: string) => Number(gtid.split(',')[0]?.split('-')[2] ?? NaN);

async function until(what: string, ms: number, ok: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Event-loop delay and GC pauses of this process over (about) the measured window — the load starts
 * within ~20 ms of 'go' — to tell a tail caused by the tailer's own process from one caused elsewhere.
 */
function diagnoseWindow(
  phase: LatencyPhase,
  pids: Record<string, number | undefined>,
): {
  result(): Pick<LatencyResult, 'loopDelayP99' | 'loopDelayMax' | 'gcMs' | 'gcMaxMs' | 'cpu'>;
} {
  const cpu = cpuWindow(pids);
  let cpuResult: CpuWindow | undefined;
  const loop = monitorEventLoopDelay({ resolution: 5 });
  const gc: number[] = [];
  let on = false;
  const obs = new PerformanceObserver((list) => {
    if (on) for (const e of list.getEntries()) gc.push(e.duration);
  });
  obs.observe({ entryTypes: ['gc'] });
  const start = setTimeout(() => {
    loop.enable();
    on = true;
    cpu.start();
  }, phase.warmupSeconds * 1000);
  const stop = setTimeout(
    () => {
      loop.disable();
      on = false;
      cpuResult = cpu.stop();
    },
    (phase.warmupSeconds + phase.measureSeconds) * 1000,
  );
  return {
    result() {
      clearTimeout(start);
      clearTimeout(stop);
      loop.disable();
      obs.disconnect();
      return {
        loopDelayP99: loop.percentile(99) / 1e6,
        loopDelayMax: loop.max / 1e6,
        gcMs: gc.reduce((a, b) => a + b, 0),
        gcMaxMs: Math.max(0, ...gc),
        cpu: cpuResult ?? cpu.stop(),
      };
    },
  };
}

export async function runLatencyPhase(
  cluster: Cluster,
  phase: LatencyPhase,
  opts: {
    index: number;
    connections: number;
    table: string;
    rows: number;
    /** Write every sample here as CSV (arrival time, latency), for looking at where a tail comes from. */
    dumpDir?: string | undefined;
  },
): Promise<LatencyResult> {
  const info = cluster.info;
  await setReplicaThreads(cluster, phase.replicaThreads);
  const source: SourceInfo = {
    host: info.replica.host,
    port: info.replica.port,
    user: info.tailerUser.user,
    password: info.tailerUser.password,
  };
  const stateDir = await mkdtemp(join(tmpdir(), 'cachetail-bench-tailer-'));
  const bench = await startBenchTailer({
    source,
    serverId: 4_000_100 + opts.index,
    memcached: info.memcached.replica,
    stateDir,
  });
  const observer = forkChild('tailer-observer.ts', { source, serverId: 4_100_100 + opts.index });
  const probe = forkChild('delete-probe.ts', { address: info.memcached.replica });
  const loadArgs: LoadArgs = {
    primary: { host: info.primary.host, port: info.primary.port, ...info.root },
    database: 'bench',
    table: opts.table,
    rows: opts.rows,
    insertBase: 10_000_000 * (opts.index + 1),
    rate: phase.rate,
    seconds: phase.warmupSeconds + phase.measureSeconds,
    connections: opts.connections,
    tag: `p${opts.index}`,
  };
  const load = forkChild('tailer-load.ts', loadArgs);
  try {
    await Promise.all([message(observer, 'ready'), message(probe, 'ready'), message(load, 'ready')]);
    const loadDone = message<Done>(load, 'done');
    load.send({ type: 'go' });
    const servers = registeredPids(info.baseDir);
    const diag = diagnoseWindow(phase, {
      tailer: process.pid,
      observer: observer.pid,
      probe: probe.pid,
      load: load.pid,
      primary: servers.get('primary'),
      replica: servers.get('replica'),
      memcached: servers.get('memcached-replica'),
    });
    // Dump mode: the tailer's queue and this process's timer drift every 10 ms, to line tails up with.
    const trace: string[] = ['t_ms,pending_transactions,reading_paused,timer_drift_ms,sink_errors'];
    let lastTick = nowMs();
    const tracer = opts.dumpDir
      ? setInterval(() => {
          const t = nowMs();
          const s = bench.sinkStats;
          trace.push(
            `${t.toFixed(1)},${bench.tailer.pendingTransactions},${bench.tailer.readingPaused ? 1 : 0},` +
              `${(t - lastTick - 10).toFixed(1)},${s.errors}`,
          );
          lastTick = t;
        }, 10)
      : undefined;
    const done = await loadDone;
    if (tracer) clearInterval(tracer);
    const lagAtEnd = seqOf(await gtidPos(cluster, 'primary')) - seqOf(await gtidPos(cluster, 'replica'));
    const from = done.t0 + phase.warmupSeconds * 1000;
    const to = from + phase.measureSeconds * 1000;
    // The replica drains its backlog (bounded wait), then the tailer must acknowledge its last GTID.
    await cluster.waitForReplicaCatchUp(180_000);
    const last = await gtidPos(cluster, 'replica');
    await until(`the tailer to acknowledge ${last}`, 60_000, () => bench.acks.has(last));
    const rttsP = message<Rtts>(probe, 'rtts');
    const arrivalsP = message<Arrivals>(observer, 'arrivals');
    probe.send({ type: 'stop' });
    observer.send({ type: 'stop' });
    const [rtts, arrivals] = await Promise.all([rttsP, arrivalsP]);

    const tailer: number[] = [];
    const csv: string[] = ['gtid_arrival_ms,tailer_added_ms'];
    const fromCommit: number[] = [];
    const spread: number[] = [];
    let seen = 0;
    let missing = 0;
    arrivals.gtids.forEach((gtid, i) => {
      const at = arrivals.gtidAt[i];
      if (at < from || at >= to) return;
      seen++;
      const ack = bench.acks.get(gtid);
      if (ack === undefined) {
        missing++;
        return;
      }
      tailer.push(ack - at);
      if (opts.dumpDir) csv.push(`${(at - from).toFixed(3)},${(ack - at).toFixed(3)}`);
      const commit = arrivals.commitAt[i];
      if (!Number.isNaN(commit)) {
        fromCommit.push(ack - commit);
        spread.push(commit - at);
      }
    });
    const inWindow = (t: number) => t >= from && t < to;
    if (opts.dumpDir) {
      const name = `${phase.rate}-${phase.replicaThreads}`;
      await writeFile(join(opts.dumpDir, `latency-${name}.csv`), `${csv.join('\n')}\n`);
      const probeCsv = Array.from(rtts.at, (t, i) => `${(t - from).toFixed(3)},${rtts.rtt[i].toFixed(3)}`);
      await writeFile(join(opts.dumpDir, `probe-${name}.csv`), `sent_ms,rtt_ms\n${probeCsv.join('\n')}\n`);
      const rebased = trace.map((l, i) =>
        i === 0 ? l : `${(Number(l.split(',')[0]) - from).toFixed(1)}${l.slice(l.indexOf(','))}`,
      );
      await writeFile(join(opts.dumpDir, `tailer-${name}.csv`), `${rebased.join('\n')}\n`);
    }
    return {
      phase,
      primaryRate: done.doneAt.filter(inWindow).length / phase.measureSeconds,
      replicaRate: seen / phase.measureSeconds,
      loadErrors: done.errors,
      missing,
      tailer: summarize(tailer),
      fromCommit: summarize(fromCommit),
      spread: summarize(spread),
      probe: summarize(rtts.rtt.filter((_, i) => inWindow(rtts.at[i]))),
      lagAtEnd,
      ...diag.result(),
      sinkErrors: bench.sinkStats.errors,
      sinkTimeouts: bench.sinkStats.timeouts,
      perDelivery: bench.acks.size / bench.tailer.stats.batches,
      negative: tailer.filter((x) => x < 0).length,
    };
  } finally {
    await Promise.all([endChild(load), endChild(observer), endChild(probe)]);
    await bench.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
}
