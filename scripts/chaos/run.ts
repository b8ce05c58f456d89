/**
 * One seeded chaos run: writers rename values on the primary (annotated), readers fill the replica
 * region's cache through getOrLoad (add-only fills, tombstone = miss) from the replica, faults from the
 * seed's schedule; then quiesce and check.
 *
 * Exact measures:
 *  - lost invalidations: every write also names a sentinel key the writer `set` before COMMIT and nobody
 *    else touches; after quiescence a sentinel still holding its value is a delete that never happened.
 *  - stale keys after quiescence: a cached value that differs from the replica's row.
 *  - stale reads: a reader's cache hit whose value equals the replica row neither just before nor just
 *    after the hit; a window runs from a key's first stale hit to its next consistent read (a lower bound).
 *  - the sampler (src/sampler) at fixed delays after each write's invalidation was acknowledged (the
 *    tailer's /status watermark passing the write's GTID, polled every 20 ms).
 *
 * Every server statement goes through the pair's line (env.extras.driver: MariaDB or MySQL spelling) and
 * the writer's GTID through src/app/gtid.ts, so a run works the same on every server line.
 */
import memjs from 'memjs';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { annotate } from '../../src/annotate/index.js';
import { getOrLoad } from '../../src/app/index.js';
import { lastWriteGtid, trackWriteGtids } from '../../src/app/gtid.js';
import { GtidState } from '../../src/binlog/index.js';
import { isTombstone } from '../../src/sinks/memcached/tombstone.js';
import {
  createConsistencySampler,
  memcachedEnvelopeReader,
  type ConsistencyReport,
} from '../../src/sampler/index.js';
import { createTopics, TopicReader } from '../../test/integration/kafka-support.js';
import { ChaosTailer, memcachedStats, sleep, watermarkState, type ChaosEnv } from './env.js';
import { prng, runFaults, type FaultKind } from './schedule.js';

export type ChaosMode = 'holdoff' | 'plain';

export interface RunOptions {
  seed: number;
  mode: ChaosMode;
  durationS: number;
  delaysMs: readonly number[];
  /** Fault kinds to draw from (default all; empty: none). */
  faults?: readonly FaultKind[];
  rows?: number;
  writers?: number;
  readers?: number;
}

export interface RunResult {
  seed: number;
  mode: ChaosMode;
  writes: number;
  /** Keys named by committed writes (the row key + the sentinel). */
  invalidations: number;
  faults: Partial<Record<FaultKind, number>>;
  lostInvalidations: number;
  staleKeysAfterQuiescence: number;
  staleReads: number;
  reads: number;
  staleWindowsMs: { count: number; p50: number; p99: number; max: number };
  deleteHits: number;
  deleteMisses: number;
  quiesceMs: number;
  /** The chaos checker's own sampler (every write, fed from the /status watermark; survives kills). */
  sampler: ConsistencyReport;
  /** The sampler inside `cachetail tail` (config `consistency`), summed over its processes. */
  tailerSampler: TailerSamplerFigures;
  /**
   * Keys acknowledged by the memcached tailer, over all its processes: above `invalidations` by the
   * repeats after kills (at-least-once), below it by keys written twice within one batch (merged).
   */
  keysDelivered: number;
  /** Invalidations on the topic: null without a broker. */
  kafka: KafkaFigures | null;
  examples: string[];
}

export interface TailerSamplerFigures {
  processes: number;
  sampled: number;
  /** Checks still waiting when a fault killed their process. */
  pendingLostToKills: number;
  delays: {
    delayMs: number;
    consistent: number;
    stale: number;
    errors: number;
    within: { consistent: number; stale: number; errors: number };
  }[];
}

export interface KafkaFigures {
  expected: number;
  records: number;
  missing: number;
  duplicates: number;
  unexpected: number;
  /** From the end of quiescence until every expected invalidation was read (or the 60 s bound). */
  caughtUpMs: number;
}

function sumReports(
  reports: readonly ConsistencyReport[],
  delaysMs: readonly number[],
  pendingLostToKills: number,
): TailerSamplerFigures {
  return {
    processes: reports.length,
    sampled: reports.reduce((s, r) => s + r.sampled, 0),
    pendingLostToKills,
    delays: [...delaysMs]
      .sort((a, b) => a - b)
      .map((delayMs) => {
        const ds = reports.flatMap((r) => r.delays.filter((d) => d.delayMs === delayMs));
        const total = (f: (d: (typeof ds)[number]) => number) => ds.reduce((s, d) => s + f(d), 0);
        return {
          delayMs,
          consistent: total((d) => d.consistent),
          stale: total((d) => d.stale),
          errors: total((d) => d.errors),
          within: {
            consistent: total((d) => d.within.consistent),
            stale: total((d) => d.within.stale),
            errors: total((d) => d.within.errors),
          },
        };
      }),
  };
}

/** Reads the whole topic: every committed write's two invalidations (event ids `gtid:<gtid>#<i>`). */
async function checkTopic(
  brokers: string[],
  topic: string,
  committed: readonly string[],
  examples: string[],
): Promise<KafkaFigures> {
  const ids = committed.flatMap((g) => [`gtid:${g}#0`, `gtid:${g}#1`]);
  const t0 = Date.now();
  const reader = await TopicReader.start(brokers, topic);
  try {
    await reader.waitForIds(ids, `${ids.length} invalidations on ${topic}`, 60_000).catch(() => undefined);
    const caughtUpMs = Date.now() - t0;
    const counts = new Map<string, number>();
    for (const r of reader.records) counts.set(r.inv.eventId, (counts.get(r.inv.eventId) ?? 0) + 1);
    const expected = new Set(ids);
    const missing = ids.filter((id) => !counts.has(id));
    for (const id of missing.slice(0, 5)) examples.push(`kafka missing: ${id}`);
    return {
      expected: ids.length,
      records: reader.records.length,
      missing: missing.length,
      duplicates: reader.records.length - counts.size,
      unexpected: [...counts.keys()].filter((id) => !expected.has(id)).length,
      caughtUpMs,
    };
  } finally {
    await reader.stop();
  }
}

interface PendingAck {
  keys: string[];
  gtid: string;
}

export async function runChaos(env: ChaosEnv, opts: RunOptions): Promise<RunResult> {
  const { seed, mode } = opts;
  const rows = opts.rows ?? 40;
  const rand = prng(seed);
  const table = `chaos.r${seed}_${mode}`;
  const key = (id: number) => `chaos:${seed}:${mode}:${id}`;
  // Not under the row keys' template (the in-tailer sampler's truth query covers row keys only).
  const sentinel = (n: number) => `chaos-sentinel:${seed}:${mode}:w${n}`;
  const { pair } = env;
  const { sql } = env.extras.driver;
  const servers = env.memcached.map((m) => m.address).join(',');
  // Short timeouts: a paused memcached must cost a reader a miss, not a hang.
  const raw = memjs.Client.create(servers, { timeout: 0.3, retries: 0, logger: { log: () => {} } });
  // memjs's timeout is a socket idle timeout: a request sent as a server is killed and restarted can
  // stay unanswered for ever (a plain-mode run hung on it). Every call is bounded here.
  const cache = {
    get: (k: string) => bounded(raw.get(k), `get ${k}`),
    set: (k: string, v: string, o: { expires?: number }) => bounded(raw.set(k, v, o), `set ${k}`),
    add: (k: string, v: string, o: { expires?: number }) => bounded(raw.add(k, v, o), `add ${k}`),
    close: () => raw.close(),
  };
  const topic = env.kafka ? `chaos-${seed}-${mode}-${Date.now()}` : undefined;
  if (env.kafka && topic) await createTopics(env.kafka.brokers, topic, 3);
  const tailer = new ChaosTailer(env, mode === 'holdoff', {
    topic,
    consistency: {
      key: `chaos:${seed}:${mode}:{id}`,
      sql: `SELECT v FROM ${table} WHERE id = ?`,
      delaysMs: opts.delaysMs,
    },
  });
  // A restart zeroes a memcached's counters; this run's restarts carry them (see schedule.ts).
  env.memcachedCarry = env.memcached.map(() => ({}));
  const conns: Connection[] = [];
  const open = async (s: 'primary' | 'replica') => {
    const c = await pair.connect(s);
    conns.push(c);
    return c;
  };

  await pair.query('primary', 'CREATE DATABASE IF NOT EXISTS chaos');
  await pair.query('primary', `CREATE TABLE ${table} (id INT PRIMARY KEY, v VARCHAR(64) NOT NULL)`);
  const values = Array.from({ length: rows }, (_, id) => `(${id}, 'v0')`).join(',');
  await pair.query('primary', `INSERT INTO ${table} VALUES ${values}`);
  await pair.waitForReplicaCatchUp(60_000);
  const before = await Promise.all(env.memcached.map((m) => memcachedStats(m.address)));

  const examples: string[] = [];
  const readRow = async (c: Connection, id: number): Promise<string | null> => {
    const [r] = await c.query<RowDataPacket[]>(`SELECT v FROM ${table} WHERE id = ?`, [id]);
    return r[0] ? String(r[0].v) : null;
  };
  // The checker's own replica connection, shared by hundreds of concurrent sampler checks: after a
  // replica restart exactly one of them reconnects (each reconnecting on its own leaked connections
  // until max_connections ran out).
  let truthConn: Promise<Connection> = open('replica');
  const readTruthRow = async (id: number): Promise<string | null> => {
    const current = truthConn;
    try {
      return await readRow(await current, id);
    } catch {
      if (truthConn === current) {
        void current.then((c) => c.destroy()).catch(() => undefined);
        truthConn = open('replica');
        truthConn.catch(() => undefined);
      }
      return readRow(await truthConn, id);
    }
  };
  const idOf = (k: string) => Number(k.slice(k.lastIndexOf(':') + 1));
  const sampler = createConsistencySampler({
    every: 1,
    delaysMs: opts.delaysMs,
    readCache: memcachedEnvelopeReader(cache),
    // Only row keys are sampled (sentinels are not app values); JSON text, as the envelope reader returns.
    readTruth: async (k) => {
      const v = await readTruthRow(idOf(k));
      return v === null ? null : JSON.stringify(v);
    },
    log: { warn: (obj) => examples.push(`sampler: ${JSON.stringify(obj)}`) },
  });

  let running = true;
  let writes = 0;
  const sentinels: number[] = [];
  const pendingAcks: PendingAck[] = [];
  /** GTIDs of committed writes: each must be on the Kafka topic as two invalidations. */
  const committed: string[] = [];
  let nextSentinel = 0;

  try {
    return await drive();
  } finally {
    // Also on failure: the tailer process is ours, ended by PID; connections and the client closed.
    await tailer.close();
    cache.close();
    await Promise.allSettled(conns.map((c) => c.end()));
    await pair.query('primary', `DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
  }

  async function drive(): Promise<RunResult> {
    await tailer.start();
    const started = Date.now();
    const until = started + opts.durationS * 1000;

    const writer = async (w: number) => {
      const r = prng(seed * 31 + w);
      // The writer's GTID: MariaDB @@last_gtid, MySQL the commit's OK packet once tracking is on.
      const openWriter = async () => {
        const c = await open('primary');
        await trackWriteGtids(c);
        return c;
      };
      let conn = await openWriter();
      while (running) {
        const id = Math.floor(r() * rows);
        const n = nextSentinel++;
        const value = `s${seed}w${w}n${n}`;
        // The sentinel is set before COMMIT, so the tailer's delete always comes after it.
        const sentinelSet = await cache.set(sentinel(n), 'pending', { expires: 3600 }).catch(() => false);
        try {
          const [result] = await conn.query(
            annotate(`UPDATE ${table} SET v = ? WHERE id = ?`, [key(id), sentinel(n)]),
            [value, id],
          );
          const gtid = await lastWriteGtid(conn, result);
          writes++;
          if (sentinelSet) sentinels.push(n);
          committed.push(gtid);
          pendingAcks.push({ keys: [key(id)], gtid });
        } catch {
          // The primary is never faulted; a failed statement is simply not counted.
          conn.destroy();
          conn = await openWriter();
        }
        await sleep(2 + Math.floor(r() * 6));
      }
    };

    let reads = 0;
    let staleReads = 0;
    const staleSince = new Map<number, number>();
    const windows: number[] = [];
    const reader = async (n: number) => {
      const r = prng(seed * 17 + n);
      let conn = await open('replica');
      while (running) {
        const id = Math.floor(r() * rows);
        try {
          const truthBefore = await readRow(conn, id);
          let loaded = false;
          const got = await getOrLoad(
            cache,
            key(id),
            async () => {
              loaded = true;
              const v = await readRow(conn, id);
              // Application work between the read and the fill: the window of the stale-set race.
              await sleep(Math.floor(r() * 20));
              return v;
            },
            { ttl: 600 },
          );
          reads++;
          if (!loaded && got !== truthBefore && got !== (await readRow(conn, id))) {
            staleReads++;
            if (!staleSince.has(id)) staleSince.set(id, Date.now());
          } else if (staleSince.has(id)) {
            windows.push(Date.now() - staleSince.get(id)!);
            staleSince.delete(id);
          }
        } catch {
          // The replica restarting or memcached paused: a failed read, retried on a new connection.
          // The old one is destroyed: leaking one per error exhausted max_connections during a restart.
          conn.destroy();
          await sleep(50);
          conn = await open('replica').catch(() => conn);
        }
      }
    };

    // Feeds the sampler: a write's invalidation is acknowledged once the watermark passes its GTID.
    const watcher = async () => {
      while (running || pendingAcks.length > 0) {
        const st = await tailer.status();
        const wm = watermarkState(st?.watermark?.gtid);
        // Writes commit in this order on the primary, and the replica applies them in commit order.
        while (pendingAcks.length > 0 && (pendingAcks[0].gtid === '' || wm.hasReached(pendingAcks[0].gtid))) {
          const a = pendingAcks.shift()!;
          if (a.gtid !== '') sampler.observe([{ gtid: a.gtid, keys: a.keys }], Date.now());
        }
        if (!running && st === null) await sleep(200);
        await sleep(20);
      }
    };

    const tasks = [
      ...Array.from({ length: opts.writers ?? 3 }, (_, w) => writer(w)),
      ...Array.from({ length: opts.readers ?? 4 }, (_, n) => reader(n)),
    ];
    const watching = watcher();
    let faults: Awaited<ReturnType<typeof runFaults>> = [];
    try {
      faults = await runFaults(env, tailer, rand, until, started, opts.faults);
      await sleep(Math.max(0, until - Date.now()));
    } finally {
      running = false;
      await Promise.allSettled(tasks);
    }

    // Quiesce: the replica applied everything, then the tailer acknowledged up to the primary's position.
    const q0 = Date.now();
    await pair.query('replica', sql.startReplicaSql).catch(() => undefined);
    await pair.waitForReplicaCatchUp(120_000);
    // Everything the primary binlogged (MariaDB gtid_binlog_pos; MySQL gtid_executed, split over lines).
    const [p] = await pair.query('primary', sql.gtidState);
    const target = GtidState.parse(String(p?.gtid ?? '').replace(/\s+/g, ''));
    for (const deadline = Date.now() + 120_000; ; await sleep(50)) {
      if (watermarkState((await tailer.status())?.watermark?.gtid).covers(target)) break;
      if (Date.now() > deadline)
        throw new Error(`seed ${seed}: tailer never reached ${target.toString()}\n${tailer.output()}`);
    }
    const quiesceMs = Date.now() - q0;
    await watching;
    await sampler.drain();

    let lost = 0;
    for (const n of sentinels) {
      const { value } = await cache.get(sentinel(n));
      if (value !== null && !isTombstone(value)) {
        lost++;
        if (examples.length < 20) examples.push(`lost: ${sentinel(n)}`);
      }
    }
    const readCache = memcachedEnvelopeReader(cache);
    let stale = 0;
    for (let id = 0; id < rows; id++) {
      const c = await readCache(key(id));
      const truth = await readTruthRow(id);
      if (c.state === 'value' && c.value !== JSON.stringify(truth)) {
        stale++;
        if (examples.length < 20) examples.push(`stale: ${key(id)} cache ${c.value} replica ${truth}`);
      }
    }
    const after = await Promise.all(env.memcached.map((m) => memcachedStats(m.address)));
    const delta = (k: string) =>
      after.reduce(
        (s, a, i) => s + (a[k] ?? 0) + (env.memcachedCarry[i]?.[k] ?? 0) - (before[i]?.[k] ?? 0),
        0,
      );
    // The in-tailer sampler of the last process (every check has run: the harness's drained later).
    await tailer.collectSampler();
    const tailerSampler = sumReports(
      tailer.sampler.reports,
      opts.delaysMs,
      tailer.sampler.pendingLostToKills,
    );
    const kafka = env.kafka && topic ? await checkTopic(env.kafka.brokers, topic, committed, examples) : null;

    const counts: Partial<Record<FaultKind, number>> = {};
    for (const f of faults) counts[f.kind] = (counts[f.kind] ?? 0) + 1;
    return {
      seed,
      mode,
      writes,
      invalidations: writes * 2,
      faults: counts,
      lostInvalidations: lost,
      staleKeysAfterQuiescence: stale,
      staleReads,
      reads,
      staleWindowsMs: summarize(windows),
      deleteHits: delta('delete_hits'),
      deleteMisses: delta('delete_misses'),
      quiesceMs,
      sampler: sampler.report(),
      tailerSampler,
      keysDelivered: tailer.keysDelivered,
      kafka,
      examples,
    };
  }
}

/** Rejects when `p` has not settled within `ms` (the call itself is abandoned). */
export function bounded<T>(p: Promise<T>, what: string, ms = 2_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`memcached ${what}: no answer in ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export function summarize(xs: number[]): { count: number; p50: number; p99: number; max: number } {
  if (xs.length === 0) return { count: 0, p50: 0, p99: 0, max: 0 };
  const s = [...xs].sort((a, b) => a - b);
  const q = (f: number) => s[Math.min(s.length - 1, Math.floor(f * s.length))];
  return { count: s.length, p50: q(0.5), p99: q(0.99), max: s[s.length - 1] };
}
