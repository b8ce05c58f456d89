/**
 * Tailer benchmark (issue #4), on a real devcluster (MariaDB primary → replica, memcached per region):
 *
 * 1. Tailer-added latency: the primary takes paced autocommit annotated writes (2,000/s, then
 *    10,000/s); a real tailer reads the replica's binlog and deletes from the replica region's
 *    memcached. Per transaction: sink acknowledgement − arrival of its GTID event at an independent
 *    binlog observer (bench/lib/tailer-latency.ts). Peer in the same run: one raw memcached delete's
 *    round trip, probed during the same window. Target: p99 < 5 ms at 10k transactions/s.
 * 2. RSS during one 1,000,000-key transaction: the tailer with the default spill threshold (50k keys)
 *    vs spill disabled, each in a fresh process sampled every 50 ms (bench/lib/tailer-rss-child.ts).
 *
 *   npm run bench -- tailer        (or: npx tsx bench/tailer.bench.ts)
 *
 * Environment: BENCH_TAILER_CONNECTIONS (load connections, default 16), BENCH_TAILER_SECONDS
 * (measured seconds per phase at 10k/s, default 15), BENCH_TAILER_REPLICA_THREADS (the replica's
 * slave_parallel_threads for an extra 10k/s phase; default 4, 0 = no extra phase), BENCH_TAILER_DUMP
 * (a directory: every latency sample and probe round trip written there as CSV).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RowDataPacket } from 'mysql2/promise';
import { annotate } from '../src/annotate/index.js';
import { startCluster, type Cluster } from '../src/devcluster/index.js';
import { endChild, forkChild, message, nowMs, serverDeletes, type SourceInfo } from './lib/tailer-harness.js';
import { runLatencyPhase, type LatencyPhase, type LatencyResult } from './lib/tailer-latency.js';
import type { RssArgs, RssResult } from './lib/tailer-rss-child.js';

const CONNECTIONS = Number(process.env.BENCH_TAILER_CONNECTIONS ?? 16);
const SECONDS = Number(process.env.BENCH_TAILER_SECONDS ?? 15);
const REPLICA_THREADS = Number(process.env.BENCH_TAILER_REPLICA_THREADS ?? 4);
const ROWS = 32_000;
const BIG_KEYS = 1_000_000;
const BIG_STATEMENTS = 1_000;
const BIG_PER_QUERY = 50;
const SPILL_DEFAULT = 50_000;
const SPILL_OFF = 10_000_000;

const PHASES: LatencyPhase[] = [
  { rate: 2_000, warmupSeconds: 2, measureSeconds: 10, replicaThreads: 0 },
  { rate: 10_000, warmupSeconds: 3, measureSeconds: SECONDS, replicaThreads: 0 },
  ...(REPLICA_THREADS > 0
    ? [{ rate: 10_000, warmupSeconds: 3, measureSeconds: SECONDS, replicaThreads: REPLICA_THREADS }]
    : []),
];

const stderr = (s: string) => process.stderr.write(`${s}\n`);
const ms = (x: number) => (Number.isNaN(x) ? 'n/a' : x < 10 ? x.toFixed(2) : x.toFixed(1));
const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const int = (n: number) => Math.round(n).toLocaleString('en-US');

async function setup(cluster: Cluster): Promise<void> {
  await cluster.query(
    'primary',
    `CREATE DATABASE bench;
     CREATE TABLE bench.items (id BIGINT PRIMARY KEY, v INT NOT NULL);
     CREATE TABLE bench.big (id INT PRIMARY KEY, v INT NOT NULL)`,
  );
  const conn = await cluster.connect('primary', { database: 'bench' });
  try {
    for (let lo = 1; lo <= ROWS; lo += 4_000) {
      await conn.query(
        `INSERT INTO items (id, v) VALUES ${Array.from({ length: 4_000 }, (_, i) => `(${lo + i}, 0)`).join(',')}`,
      );
    }
    await conn.query(
      `INSERT INTO big (id, v) VALUES ${Array.from({ length: BIG_STATEMENTS }, (_, i) => `(${i + 1}, 0)`).join(',')}`,
    );
  } finally {
    await conn.end();
  }
  await cluster.waitForReplicaCatchUp(60_000);
}

/** The 1M-key transaction as multi-statement query texts: statement s names keys big:<s·1000 + j>. */
function bigTransaction(): { queries: string[]; bytes: number } {
  const perStatement = BIG_KEYS / BIG_STATEMENTS;
  const statements = Array.from({ length: BIG_STATEMENTS }, (_, s) =>
    annotate(
      `UPDATE big SET v = v + 1 WHERE id = ${s + 1}`,
      Array.from({ length: perStatement }, (_, j) => `big:${s * perStatement + j}`),
    ),
  );
  const queries: string[] = [];
  for (let i = 0; i < statements.length; i += BIG_PER_QUERY) {
    queries.push(statements.slice(i, i + BIG_PER_QUERY).join(';\n'));
  }
  return { queries, bytes: queries.reduce((n, q) => n + Buffer.byteLength(q), 0) };
}

interface RssRow {
  label: string;
  threshold: number;
  result: RssResult;
  writeMs: number;
  commitToDoneMs: number;
  serverDeletes: number;
}

async function rssRun(
  cluster: Cluster,
  big: { queries: string[] },
  threshold: number,
  index: number,
): Promise<RssRow> {
  const info = cluster.info;
  const source: SourceInfo = {
    host: info.replica.host,
    port: info.replica.port,
    user: info.tailerUser.user,
    password: info.tailerUser.password,
  };
  const stateDir = await mkdtemp(join(tmpdir(), 'cachetail-bench-rss-'));
  const args: RssArgs = {
    source,
    serverId: 4_200_100 + index,
    memcached: info.memcached.replica,
    stateDir,
    spillThresholdKeys: threshold,
    keys: BIG_KEYS,
    prefix: 'big:',
  };
  const child = forkChild('tailer-rss-child.ts', args);
  try {
    await message(child, 'ready');
    const deletesBefore = await serverDeletes(info.memcached.replica);
    const resultP = message<RssResult>(child, 'result');
    const conn = await cluster.connect('primary', { database: 'bench' });
    const began = nowMs();
    let committed: number;
    try {
      await conn.query('BEGIN');
      for (const q of big.queries) await conn.query(q);
      await conn.query('COMMIT');
      committed = nowMs();
    } finally {
      await conn.end();
    }
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error('1M-key transaction not acknowledged within 180 s')),
        180_000,
      ).unref(),
    );
    const result = await Promise.race([resultP, timeout]);
    return {
      label: threshold === SPILL_DEFAULT ? 'spill on (default threshold)' : 'spill off (peer)',
      threshold,
      result,
      writeMs: committed - began,
      commitToDoneMs: result.doneAt - committed,
      serverDeletes: (await serverDeletes(info.memcached.replica)) - deletesBefore,
    };
  } finally {
    await endChild(child);
    await rm(stateDir, { recursive: true, force: true });
  }
}

function printLatency(rows: LatencyResult[]): void {
  console.log(
    '| load (target) | replica apply | primary committed | replica binlogged | measured | ' +
      'tailer-added p50 / p90 / p99 / max (ms) | delete RTT p50 / p99 (ms) | p99 ÷ RTT p99 | p99 < 5 ms |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const t = r.tailer;
    console.log(
      `| ${int(r.phase.rate)}/s | ${r.phase.replicaThreads > 0 ? `${r.phase.replicaThreads} threads, optimistic` : '1 SQL thread'} | ` +
        `${int(r.primaryRate)}/s | ${int(r.replicaRate)}/s | ${int(t.count)} | ` +
        `${ms(t.p50)} / ${ms(t.p90)} / ${ms(t.p99)} / ${ms(t.max)} | ${ms(r.probe.p50)} / ${ms(r.probe.p99)} | ` +
        `${(t.p99 / r.probe.p99).toFixed(1)}× | ${t.p99 < 5 ? 'yes' : 'no'} |`,
    );
  }
  console.log('');
  for (const r of rows) {
    console.log(
      `- ${int(r.phase.rate)}/s, ${r.phase.replicaThreads || 1} apply thread(s): measured from the commit (XID) ` +
        `event instead: p50 ${ms(r.fromCommit.p50)}, p99 ${ms(r.fromCommit.p99)} ms; GTID→XID arrival spread ` +
        `p99 ${ms(r.spread.p99)} ms; replica ${int(r.lagAtEnd)} transactions behind when the load stopped; ` +
        `${r.missing} unacknowledged, ${r.loadErrors} load errors; ${r.probe.count} probe deletes; tailer ` +
        `process: event-loop delay p99 ${ms(r.loopDelayP99)} / max ${ms(r.loopDelayMax)} ms, GC ${ms(r.gcMs)} ms ` +
        `(longest ${ms(r.gcMaxMs)}); sink failed attempts ${r.sinkErrors} (timeouts ${r.sinkTimeouts}); ` +
        `${int(r.negative)} samples (${((100 * r.negative) / r.tailer.count).toFixed(1)}%) below 0 ` +
        `(observer stamped after the ack; lowest ${ms(r.tailer.min)} ms).`,
    );
  }
}

/** Where the machine's two CPUs went during each window: ours by process, and everyone else's. */
function printCpu(rows: LatencyResult[]): void {
  const names = ['tailer', 'observer', 'probe', 'load', 'primary', 'replica', 'memcached'] as const;
  console.log(
    `| load | ${names.join(' | ')} | rest of machine | machine busy | tailer CPU per transaction ` +
      '(kernel part) | transactions per delivery |',
  );
  console.log(`|---|${names.map(() => '---|').join('')}---|---|---|---|`);
  for (const r of rows) {
    const secs = r.phase.measureSeconds;
    const p = r.cpu.processes;
    const ours = names.reduce((n, k) => n + (Number.isNaN(p[k]) ? 0 : (p[k] ?? 0)), 0);
    const cores = (x: number | undefined) =>
      x === undefined || Number.isNaN(x) ? 'n/a' : (x / secs).toFixed(2);
    const perTxn = ((p.tailer ?? NaN) / (r.replicaRate * secs)) * 1e6;
    console.log(
      `| ${int(r.phase.rate)}/s${r.phase.replicaThreads > 0 ? ` (${r.phase.replicaThreads} apply threads)` : ''} | ` +
        `${names.map((k) => cores(p[k])).join(' | ')} | ${cores(r.cpu.machineBusy - ours)} | ` +
        `${((100 * r.cpu.machineBusy) / r.cpu.machineTotal).toFixed(0)}% | ${perTxn.toFixed(0)} µs ` +
        `(${((100 * (r.cpu.sys.tailer ?? NaN)) / (p.tailer ?? NaN)).toFixed(0)}%) | ${r.perDelivery.toFixed(1)} |`,
    );
  }
}

function printRss(rows: RssRow[]): void {
  console.log(
    '| tailer | spill threshold | baseline RSS | peak RSS (50 ms samples) | peak − baseline | VmHWM | ' +
      'distinct keys acknowledged | memcached deletes received | sink deliveries | first event → all acked | COMMIT → all acked |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const x = r.result;
    console.log(
      `| ${r.label} | ${int(r.threshold)} | ${mib(x.baseline)} | ${mib(x.peak)} | ${mib(x.peak - x.baseline)} | ` +
        `${mib(x.vmHwm)} | ${int(x.distinct)} of ${int(BIG_KEYS)} | ${int(r.serverDeletes)} | ${int(x.deliveries)} | ` +
        `${(Number.isNaN(x.firstEventAt) ? NaN : (x.doneAt - x.firstEventAt) / 1000).toFixed(1)} s | ` +
        `${(r.commitToDoneMs / 1000).toFixed(1)} s |`,
    );
  }
  const on = rows.find((r) => r.threshold === SPILL_DEFAULT);
  const off = rows.find((r) => r.threshold === SPILL_OFF);
  if (on && off) {
    const ratio = (off.result.peak - off.result.baseline) / (on.result.peak - on.result.baseline);
    console.log(`\nspill-off peak delta ÷ spill-on peak delta: ${ratio.toFixed(1)}×`);
  }
  for (const r of rows) {
    const all = r.result.distinct === BIG_KEYS && r.serverDeletes >= BIG_KEYS;
    console.log(
      `- ${r.label}: ${all ? 'OK' : 'FAILED'} — all ${int(BIG_KEYS)} keys delivered ` +
        `(${int(r.result.keysAcked)} acknowledged in total); transaction written in ${(r.writeMs / 1000).toFixed(1)} s`,
    );
  }
}

async function main(): Promise<void> {
  const load0 = loadavg()[0];
  const cluster = await startCluster({ log: stderr });
  let failed = false;
  try {
    await setup(cluster);
    const [v] = await cluster.query<RowDataPacket[]>('primary', 'SELECT VERSION() AS v');
    const latency: LatencyResult[] = [];
    for (const [index, phase] of PHASES.entries()) {
      stderr(`tailer bench: ${phase.rate}/s, replica threads ${phase.replicaThreads}`);
      latency.push(
        await runLatencyPhase(cluster, phase, {
          index,
          connections: CONNECTIONS,
          table: 'bench.items',
          rows: ROWS,
          dumpDir: process.env.BENCH_TAILER_DUMP,
        }),
      );
    }
    // Back to the stock replica for the big transaction.
    await cluster.query('replica', 'STOP SLAVE; SET GLOBAL slave_parallel_threads = 0; START SLAVE');
    const big = bigTransaction();
    stderr(`tailer bench: 1M-key transaction, ${mib(big.bytes)} of SQL in ${big.queries.length} queries`);
    const rss: RssRow[] = [];
    for (const [i, threshold] of [SPILL_DEFAULT, SPILL_OFF].entries()) {
      rss.push(await rssRun(cluster, big, threshold, i));
      await cluster.waitForReplicaCatchUp(60_000);
    }

    console.log(
      `MariaDB ${String(v?.v)} primary → replica, memcached 1.6 (-t 2), tailer in this process (Node ` +
        `${process.version}); load generator, binlog observer and delete probe in their own processes; ` +
        `${cpus().length} CPUs shared by all of them; load average ${load0.toFixed(1)} before, ` +
        `${loadavg()[0].toFixed(1)} after. ${CONNECTIONS} load connections, autocommit single-row ` +
        `annotated UPDATE/INSERT with 1–3 keys.\n`,
    );
    printLatency(latency);
    console.log('\nCPU used during each measured window, in cores (2 = the whole machine):\n');
    printCpu(latency);
    console.log(
      `\nOne transaction of ${int(BIG_KEYS)} distinct keys (${BIG_STATEMENTS} UPDATEs × 1,000 keys):\n`,
    );
    printRss(rss);
    failed = rss.some((r) => r.result.distinct !== BIG_KEYS) || latency.some((r) => r.missing > 0);
  } finally {
    await cluster.stop();
  }
  if (failed) {
    console.error('tailer bench: some keys were not delivered');
    process.exitCode = 1;
  }
}

await main();
