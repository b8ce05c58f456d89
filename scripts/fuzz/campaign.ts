/**
 * The fuzz loop: generates and runs cases, guards time and memory per case, and tallies outcomes.
 * Shared by the CLI (scripts/fuzz/fuzz-decoder.ts) and the in-suite smoke test.
 *
 * Guards, each confirmed by re-running the case before it counts as a failure (machines are shared and
 * a GC pause or a neighbour can make one run slow):
 * - time: a case over 100 ms; a case that never returns is caught by the CLI's watchdog thread.
 * - memory: V8's external memory (ArrayBuffers: Buffers, zlib/zstd output) plus JS heap growth during
 *   the case, against 16 MiB + 64 × the input size — plus, for a compressed event, the declared
 *   uncompressed size up to the decoder's hard cap, which is all the decoder may allocate for it.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { EventType, MAX_UNCOMPRESSED_BYTES } from '../../src/binlog/constants.js';
import { makeCase, type FuzzCase } from './cases.js';
import type { Corpus } from './corpus.js';
import { executeCase, type CaseResult } from './execute.js';

export const SLOW_CASE_MS = 100;
const ALLOC_SLACK = 16 * 1024 * 1024;
const ALLOC_FACTOR = 64;
const COMPRESSED_TYPES = new Set<number>([
  EventType.TRANSACTION_PAYLOAD,
  EventType.MARIA_QUERY_COMPRESSED,
  ...[166, 167, 168, 169, 170, 171],
]);

export interface Failure {
  seed: number;
  index: number;
  source: string;
  ops: string[];
  problems: string[];
  hex: string;
}

export interface CampaignStats {
  seed: number;
  cases: number;
  outcomes: Map<string, number>;
  ops: Map<string, number>;
  /** Type codes of mutated events that decoded after their CRC was recomputed (body decoders reached). */
  bodyDecodedTypes: Set<number>;
  events: number;
  keys: number;
  /** Row images decoded by decodeRows, and its typed errors by code. */
  rows: number;
  rowErrors: Map<string, number>;
  slowest: { ms: number; index: number; source: string };
  largestAlloc: { bytes: number; index: number; source: string };
  largestFootprintRatio: number;
  failures: Failure[];
  ms: number;
}

export interface CampaignOptions {
  seed: number;
  cases: number;
  /** Only run indexes i with i % stride === offset (parallel workers split a run this way). */
  stride?: number;
  offset?: number;
  /** Called before each case (the CLI's watchdog records which case is running). */
  onCaseStart?: (index: number) => void;
  onProgress?: (done: number, stats: CampaignStats) => void;
  /** Stop after this many failures (default 20). */
  maxFailures?: number;
  /**
   * Time guard (default 100 ms). The in-suite smoke turns it off: a timed assertion in a unit test fails
   * on a busy shared machine; the CLI keeps it, with its re-run to confirm.
   */
  slowCaseMs?: number;
}

let gc: (() => void) | undefined;
function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}

function allocated(h0: ReturnType<typeof getHeapStatistics>): number {
  const h1 = getHeapStatistics();
  return (
    Math.max(0, h1.external_memory - h0.external_memory) + Math.max(0, h1.used_heap_size - h0.used_heap_size)
  );
}

function allowance(c: FuzzCase): number {
  const input = c.bytes.length + c.prelude.reduce((s, p) => s + p.length, 0);
  const compressed = c.kind === 'stream' || (c.bytes.length > 4 && COMPRESSED_TYPES.has(c.bytes[4]));
  return ALLOC_SLACK + ALLOC_FACTOR * input + (compressed ? MAX_UNCOMPRESSED_BYTES : 0);
}

/**
 * Runs one case with its guards; returns the result and what the guards measured. A case over a limit
 * is re-run (after a GC) up to twice: it fails only if every run is over.
 */
export function guardedCase(
  c: FuzzCase,
  slowMs = SLOW_CASE_MS,
): { result: CaseResult; ms: number; alloc: number; problems: string[] } {
  const runs: { ms: number; alloc: number }[] = [];
  let result: CaseResult;
  do {
    if (runs.length > 0) collectGarbage();
    const h0 = getHeapStatistics();
    const t0 = performance.now();
    result = executeCase(c);
    runs.push({ ms: performance.now() - t0, alloc: allocated(h0) });
  } while (runs.length < 3 && runs.every((r) => r.ms > slowMs || r.alloc > allowance(c)));
  const problems = [...result.failures];
  const ms = Math.min(...runs.map((r) => r.ms));
  const alloc = Math.min(...runs.map((r) => r.alloc));
  const list = (k: 'ms' | 'alloc'): string =>
    runs.map((r) => (k === 'ms' ? r.ms.toFixed(1) : r[k])).join(', ');
  if (ms > slowMs) problems.push(`slow: ${list('ms')} ms in ${runs.length} runs (limit ${slowMs} ms)`);
  if (alloc > allowance(c))
    problems.push(`allocated ${list('alloc')} bytes in ${runs.length} runs (allowance ${allowance(c)})`);
  return { result, ms, alloc, problems };
}

export function runCampaign(corpus: Corpus, opts: CampaignOptions): CampaignStats {
  const stats: CampaignStats = {
    seed: opts.seed,
    cases: 0,
    outcomes: new Map(),
    ops: new Map(),
    bodyDecodedTypes: new Set(),
    events: 0,
    keys: 0,
    rows: 0,
    rowErrors: new Map(),
    slowest: { ms: 0, index: -1, source: '' },
    largestAlloc: { bytes: 0, index: -1, source: '' },
    largestFootprintRatio: 0,
    failures: [],
    ms: 0,
  };
  const stride = opts.stride ?? 1;
  const started = performance.now();
  const maxFailures = opts.maxFailures ?? 20;
  for (let index = opts.offset ?? 0; index < opts.cases; index += stride) {
    opts.onCaseStart?.(index);
    const c = makeCase(corpus, opts.seed, index);
    const { result, ms, alloc, problems } = guardedCase(c, opts.slowCaseMs);
    stats.cases++;
    bump(stats.outcomes, result.outcome);
    for (const op of c.ops) bump(stats.ops, op.replace(/^inner:.*/, 'inner'));
    if (c.crcFixed && c.kind === 'event' && result.outcome === 'decoded')
      stats.bodyDecodedTypes.add(c.bytes[4]);
    stats.events += result.events;
    stats.keys += result.keys;
    stats.rows += result.rows;
    for (const [k, v] of result.rowErrors) stats.rowErrors.set(k, (stats.rowErrors.get(k) ?? 0) + v);
    if (ms > stats.slowest.ms) stats.slowest = { ms, index, source: c.source };
    if (alloc > stats.largestAlloc.bytes) stats.largestAlloc = { bytes: alloc, index, source: c.source };
    stats.largestFootprintRatio = Math.max(stats.largestFootprintRatio, result.footprintRatio);
    if (problems.length > 0) {
      stats.failures.push({
        seed: opts.seed,
        index,
        source: c.source,
        ops: c.ops,
        problems,
        hex: c.bytes.toString('hex'),
      });
      if (stats.failures.length >= maxFailures) break;
    }
    if (opts.onProgress && stats.cases % 50_000 === 0) opts.onProgress(stats.cases, stats);
  }
  stats.ms = performance.now() - started;
  return stats;
}

function bump(m: Map<string, number>, key: string): void {
  m.set(key, (m.get(key) ?? 0) + 1);
}
