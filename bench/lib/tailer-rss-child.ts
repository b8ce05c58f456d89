/**
 * Child process of bench/tailer.bench.ts: one tailer (built as `cachetail tail` builds it) in a fresh
 * process with a fresh state dir, its RSS sampled every 50 ms, while the parent commits one transaction
 * of `keys` distinct keys `big:<n>` on the primary. A fresh process per configuration, so neither run
 * inherits the other's heap or the parent's.
 *
 * Every acknowledged key is ticked off in a bitmap (allocated before the baseline is taken), so "all
 * delivered" means each of the `keys` distinct keys was acknowledged by memcached at least once.
 * Sends {type:'ready'} once the tailer streams and the baseline is sampled; {type:'result', …} once
 * every key was acknowledged.
 */
import { readFileSync } from 'node:fs';
import { nowMs, startBenchTailer, type SourceInfo } from './tailer-harness.js';

export interface RssArgs {
  source: SourceInfo;
  serverId: number;
  memcached: string;
  stateDir: string;
  spillThresholdKeys: number;
  keys: number;
  prefix: string;
}

export interface RssResult {
  type: 'result';
  /** Median RSS over the second before the transaction was written (tailer started and idle). */
  baseline: number;
  peak: number;
  /** The kernel's high-water mark (VmHWM) at the end, which a 50 ms sampler cannot miss. */
  vmHwm: number;
  samples: number;
  firstEventAt: number;
  doneAt: number;
  distinct: number;
  keysAcked: number;
  deliveries: number;
}

const SAMPLE_MS = 50;
const args = JSON.parse(process.argv[2] ?? '{}') as RssArgs;
const seen = new Uint8Array(args.keys);
let distinct = 0;
let deliveries = 0;
let finished: (() => void) | null = null;

const bench = await startBenchTailer({
  source: args.source,
  serverId: args.serverId,
  memcached: args.memcached,
  stateDir: args.stateDir,
  batch: { spillThresholdKeys: args.spillThresholdKeys },
  onAck: (batch) => {
    deliveries++;
    for (const k of batch.keys) {
      if (!k.startsWith(args.prefix)) continue;
      const n = Number(k.slice(args.prefix.length));
      if (Number.isInteger(n) && n >= 0 && n < args.keys && seen[n] === 0) {
        seen[n] = 1;
        distinct++;
      }
    }
    if (distinct === args.keys) finished?.();
  },
});

const before: number[] = [];
let baselining = true;
let peak = 0;
let samples = 0;
let firstEventAt = NaN;
let eventsAtReady = Infinity;
const sample = () => {
  const rss = process.memoryUsage().rss;
  samples++;
  peak = Math.max(peak, rss);
  if (baselining) before.push(rss);
  // The transaction is thousands of events; an idle link brings at most one heartbeat a second.
  if (Number.isNaN(firstEventAt) && bench.tailer.stats.events > eventsAtReady + 100) firstEventAt = nowMs();
};
const timer = setInterval(sample, SAMPLE_MS);
sample();
await new Promise((resolve) => setTimeout(resolve, 1_000));
baselining = false;
eventsAtReady = bench.tailer.stats.events;
const done = new Promise<void>((resolve) => (finished = resolve));
process.send?.({ type: 'ready' });
await done;
const doneAt = nowMs();
sample();
clearInterval(timer);

const vmHwmKb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);
const sorted = [...before].sort((a, b) => a - b);
const result: RssResult = {
  type: 'result',
  baseline: sorted[sorted.length >> 1] ?? NaN,
  peak,
  vmHwm: vmHwmKb * 1024,
  samples,
  firstEventAt,
  doneAt,
  distinct,
  keysAcked: bench.keysAcked(),
  deliveries,
};
await bench.stop();
process.send?.(result, () => process.exit(0));
