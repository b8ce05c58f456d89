/**
 * Decoder fuzzer CLI.
 *
 *   npm run fuzz -- --seed 42 --cases 1000000 [--workers 2]
 *   npm run fuzz -- --replay 42:123456        # one case: its input as hex, outcome, any failure
 *
 * Exit code 0 when every case met the contract, 1 on a failure, 2 on bad arguments; a hang is reported
 * by a watchdog thread, which kills the process (the loop cannot be interrupted from inside).
 */
import { writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { runCampaign, guardedCase, type CampaignStats } from './campaign.js';
import { makeCase } from './cases.js';
import { binlogFixturesDir, loadCorpus } from './corpus.js';
import { printSummary, type SerializedStats, serializeStats, mergeStats } from './summary.js';

/** A case running this long is a hang, not a slow case. */
const HANG_MS = 10_000;

interface Args {
  seed: number;
  cases: number;
  workers: number;
  replay?: { seed: number; index: number };
}

function parseArgs(argv: string[]): Args {
  const args: Args = { seed: Date.now() % 2_147_483_647, cases: 1_000_000, workers: 1 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    if (a === '--seed') args.seed = int(value(), a);
    else if (a === '--cases') args.cases = int(value(), a);
    else if (a === '--workers') args.workers = Math.max(1, int(value(), a));
    else if (a === '--replay') {
      const m = /^(\d+):(\d+)$/.exec(value());
      if (!m) usage('--replay takes <seed>:<case>');
      args.replay = { seed: Number(m[1]), index: Number(m[2]) };
    } else usage(`unknown argument ${a}`);
  }
  return args;
}

function int(v: string, name: string | undefined): number {
  if (!/^\d+$/.test(v)) usage(`${name} takes a non-negative integer`);
  return Number(v);
}

function usage(msg: string): never {
  process.stderr.write(
    `${msg}\nusage: fuzz-decoder [--seed N] [--cases M] [--workers W] | --replay SEED:CASE\n`,
  );
  process.exit(2);
}

/** A thread that notices a case that never returns, names it and kills the process. */
function startWatchdog(seed: number): { running: Float64Array; stop: () => void } {
  const running = new Float64Array(new SharedArrayBuffer(16));
  const code = `
    const { workerData } = require('node:worker_threads');
    const { writeSync } = require('node:fs');
    const running = workerData.running;
    setInterval(() => {
      const [index, since] = running;
      if (since > 0 && Date.now() - since > ${HANG_MS}) {
        writeSync(2, 'HANG: case ' + workerData.seed + ':' + index + ' ran over ${HANG_MS} ms; replay with npm run fuzz -- --replay ' + workerData.seed + ':' + index + '\\n');
        process.kill(process.pid, 'SIGKILL');
      }
    }, 500);`;
  const w = new Worker(code, { eval: true, workerData: { running, seed } });
  w.unref();
  return { running, stop: () => void w.terminate() };
}

function runWorker(): void {
  const { seed, cases, stride, offset } = workerData as {
    seed: number;
    cases: number;
    stride: number;
    offset: number;
  };
  const corpus = loadCorpus(binlogFixturesDir);
  const watchdog = startWatchdog(seed);
  const stats = runCampaign(corpus, {
    seed,
    cases,
    stride,
    offset,
    onCaseStart: (index) => {
      watchdog.running[0] = index;
      watchdog.running[1] = Date.now();
    },
  });
  watchdog.stop();
  parentPort!.postMessage(serializeStats(stats));
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const corpus = loadCorpus(binlogFixturesDir);
  if (args.replay) {
    const c = makeCase(corpus, args.replay.seed, args.replay.index);
    const { result, ms, alloc, problems } = guardedCase(c);
    console.log(
      `case ${c.seed}:${c.index} (${c.kind}) from ${c.source}; ops ${c.ops.join(', ')}; crc recomputed: ${c.crcFixed}`,
    );
    for (const p of c.prelude) console.log(`context: ${p.toString('hex')}`);
    console.log(`input (${c.bytes.length} bytes): ${c.bytes.toString('hex')}`);
    console.log(
      `outcome: ${result.outcome}, ${result.events} events, ${result.keys} keys, ${ms.toFixed(2)} ms, ${alloc} bytes`,
    );
    for (const p of problems) console.log(`FAILURE: ${p}`);
    process.exitCode = problems.length > 0 ? 1 : 0;
    return;
  }
  const workers = Math.min(args.workers, availableParallelism());
  console.log(
    `fuzzing the binlog decoder: seed ${args.seed}, ${args.cases} cases, ${workers} worker(s); corpus: ` +
      `${corpus.seeds.length} seed events in ${corpus.groups.length} groups from ${corpus.fixtureFiles} fixture files ` +
      `+ builder, ${corpus.streams.length} streams`,
  );
  const started = performance.now();
  let stats: CampaignStats;
  if (workers === 1) {
    const watchdog = startWatchdog(args.seed);
    stats = runCampaign(corpus, {
      seed: args.seed,
      cases: args.cases,
      onCaseStart: (index) => {
        watchdog.running[0] = index;
        watchdog.running[1] = Date.now();
      },
      onProgress: (done) =>
        writeSync(2, `  ${done} cases, ${((performance.now() - started) / 1000).toFixed(0)} s\n`),
    });
    watchdog.stop();
  } else {
    const parts = await Promise.all(
      Array.from(
        { length: workers },
        (_, offset) =>
          new Promise<SerializedStats>((resolve, reject) => {
            // tsx's loader is per thread: the worker registers it before importing this .ts file.
            const boot = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(import.meta.url)}); })`;
            const w = new Worker(boot, {
              eval: true,
              workerData: { seed: args.seed, cases: args.cases, stride: workers, offset },
            });
            w.once('message', (m: SerializedStats) => resolve(m));
            w.once('error', reject);
            w.once(
              'exit',
              (code) => code !== 0 && reject(new Error(`fuzz worker ${offset} exited with ${code}`)),
            );
          }),
      ),
    );
    stats = mergeStats(parts);
  }
  stats.ms = performance.now() - started;
  printSummary(stats);
  process.exitCode = stats.failures.length > 0 ? 1 : 0;
}

if (isMainThread) await main();
else runWorker();
