/**
 * The seeded fault schedule: every choice (which fault, when, how long) comes from the seed's PRNG, so a
 * run is replayed with `--seed`. Faults run one at a time, each undone before the next is drawn.
 */
import type { ChaosEnv, ChaosTailer } from './env.js';
import { MEMCACHED_NAMES, PAIR, memcachedStats, sleep } from './env.js';
import {
  killMemcached,
  pauseMemcached,
  restartMemcached,
  resumeMemcached,
} from '../../src/devcluster/memcached.js';
import { killKafka, restartKafka } from '../../src/devcluster/kafka.js';

export const FAULT_KINDS = [
  'tailer-kill',
  'replica-restart',
  'memcached-pause',
  'replica-lag',
  'binlog-rotate',
  'memcached-restart',
  'kafka-stop',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * The kinds a schedule draws from: `only` (default all), the Kafka fault only when the env has a broker.
 * Empty: no faults (a steady load run).
 */
export function faultKinds(
  env: Pick<ChaosEnv, 'kafka'>,
  only: readonly FaultKind[] = FAULT_KINDS,
): readonly FaultKind[] {
  return only.filter((k) => env.kafka || k !== 'kafka-stop');
}

/** `--faults` text: `all`, `none`, or a comma-separated list of kinds. */
export function parseFaultKinds(text: string): FaultKind[] {
  if (text === 'all') return [...FAULT_KINDS];
  if (text === 'none') return [];
  const kinds = text.split(',').map((k) => k.trim());
  const bad = kinds.filter((k) => !(FAULT_KINDS as readonly string[]).includes(k));
  if (bad.length > 0)
    throw new Error(`unknown fault kind(s) ${bad.join(', ')}; known: ${FAULT_KINDS.join(', ')}`);
  return kinds as FaultKind[];
}

/** mulberry32: small, fast, and the same sequence on every machine. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FaultRecord {
  kind: FaultKind;
  atMs: number;
  durationMs: number;
}

/** Injects faults until `until` (ms since the epoch); returns what it did. */
export async function runFaults(
  env: ChaosEnv,
  tailer: ChaosTailer,
  rand: () => number,
  until: number,
  started: number,
  only?: readonly FaultKind[],
): Promise<FaultRecord[]> {
  const done: FaultRecord[] = [];
  const kinds = faultKinds(env, only);
  if (kinds.length === 0) return done;
  for (;;) {
    const gap = 300 + Math.floor(rand() * 1700);
    const kind = kinds[Math.floor(rand() * kinds.length)];
    const holdMs = 200 + Math.floor(rand() * 2300);
    if (Date.now() + gap >= until) break;
    await sleep(gap);
    const at = Date.now();
    await inject(env, tailer, kind, holdMs, rand);
    done.push({ kind, atMs: at - started, durationMs: Date.now() - at });
  }
  return done;
}

async function inject(
  env: ChaosEnv,
  tailer: ChaosTailer,
  kind: FaultKind,
  holdMs: number,
  rand: () => number,
): Promise<void> {
  const { pair } = env;
  switch (kind) {
    case 'tailer-kill':
      // kill -9 mid-stream; restarted after 0–1 s from its checkpoint (at-least-once: deletes repeat).
      await tailer.killAndRestart(Math.floor(holdMs / 2.5));
      return;
    case 'replica-restart':
      // SIGTERM the replica, keep it down, start it on the same port and data; it resumes replicating.
      await env.extras.restartServer(`${PAIR}-replica`, { downMs: Math.floor(holdMs / 2) });
      return;
    case 'memcached-pause': {
      // SIGSTOP: a hang (port open, no answers) — the sink must retry/journal, never skip.
      const mc = env.memcached[Math.floor(rand() * env.memcached.length)];
      pauseMemcached(mc);
      try {
        await sleep(holdMs);
      } finally {
        resumeMemcached(mc);
      }
      return;
    }
    case 'memcached-restart': {
      // kill -9 and a fresh, empty server on the same address: deletes meanwhile are journaled and
      // replayed. Its counters are carried over first (a new process starts them at 0).
      const i = Math.floor(rand() * env.memcached.length);
      const mc = env.memcached[i];
      const stats = await memcachedStats(mc.address).catch(() => ({}));
      for (const [k, v] of Object.entries(stats))
        env.memcachedCarry[i][k] = (env.memcachedCarry[i][k] ?? 0) + v;
      await killMemcached(mc);
      await sleep(Math.floor(holdMs / 2));
      env.memcached[i] = await restartMemcached(mc, {
        baseDir: env.extras.baseDir,
        name: MEMCACHED_NAMES[i],
      });
      return;
    }
    case 'kafka-stop':
      // kill -9 the broker; memcached deletes must go on; publishing resumes from the Kafka checkpoint.
      await killKafka({ baseDir: env.extras.baseDir });
      try {
        await sleep(holdMs);
      } finally {
        await restartKafka({ baseDir: env.extras.baseDir });
      }
      return;
    case 'replica-lag': {
      // The line's own spelling (MySQL 8.4+ has no STOP SLAVE).
      const { sql } = env.extras.driver;
      await pair.query('replica', sql.stopReplicaSql);
      try {
        await sleep(holdMs);
      } finally {
        await pair.query('replica', sql.startReplicaSql);
      }
      return;
    }
    case 'binlog-rotate':
      // The tailer reads the replica's binlog: rotate that one (and the primary's, for the relay log).
      await pair.query('replica', 'FLUSH BINARY LOGS');
      await pair.query('primary', 'FLUSH BINARY LOGS');
      return;
  }
}
