/**
 * The seeded fault schedule: every choice (which fault, when, how long) comes from the seed's PRNG, so a
 * run is replayed with `--seed`. Faults run one at a time, each undone before the next is drawn.
 */
import type { ChaosEnv, ChaosTailer } from './env.js';
import { PAIR, sleep } from './env.js';
import { pauseMemcached, resumeMemcached } from '../../src/devcluster/memcached.js';

export const FAULT_KINDS = [
  'tailer-kill',
  'replica-restart',
  'memcached-pause',
  'replica-lag',
  'binlog-rotate',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

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
): Promise<FaultRecord[]> {
  const done: FaultRecord[] = [];
  for (;;) {
    const gap = 300 + Math.floor(rand() * 1700);
    const kind = FAULT_KINDS[Math.floor(rand() * FAULT_KINDS.length)];
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
    case 'replica-lag':
      await pair.query('replica', 'STOP SLAVE SQL_THREAD');
      try {
        await sleep(holdMs);
      } finally {
        await pair.query('replica', 'START SLAVE SQL_THREAD');
      }
      return;
    case 'binlog-rotate':
      // The tailer reads the replica's binlog: rotate that one (and the primary's, for the relay log).
      await pair.query('replica', 'FLUSH BINARY LOGS');
      await pair.query('primary', 'FLUSH BINARY LOGS');
      return;
  }
}
