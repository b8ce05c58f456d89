/**
 * `npm run chaos -- --seeds 50 --duration 20 [--first-seed 1] [--mode holdoff|plain|both] [--delays 1000,10000]
 *  [--without-kafka] [--faults all|none|kind,kind…] [--line mariadb-10.11|mariadb-11.8|mysql-9.7]`
 * Replay one run: `--first-seed <seed> --seeds 1 --mode <mode> --line <line>`. Exit 1 when a hold-off run
 * lost an invalidation or left a stale key, or any run lost an invalidation (memcached or the Kafka topic).
 */
import { parseArgs } from 'node:util';
import { DEFAULT_LINE, parseServerLine, SERVER_LINES } from '../../src/devcluster/index.js';
import { startChaosEnv } from './env.js';
import { runChaos, summarize, type ChaosMode, type RunResult } from './run.js';
import { FAULT_KINDS, parseFaultKinds } from './schedule.js';

const HELP = `npm run chaos -- [options]

Seeded fault schedules against a private primary → replica pair, two memcached servers, a Kafka broker
and the real \`cachetail tail\` process (docs/consistency.md).

  --seeds N            runs per mode (default 5)
  --first-seed N       first seed (default 1)
  --duration S         seconds of load per run (default 20)
  --mode M             holdoff | plain | both (default both)
  --delays MS,MS       sampler delays after each acknowledged invalidation (default 1000,10000)
  --faults F           all | none | a comma list of ${FAULT_KINDS.join(', ')} (default all)
  --line L             server line: ${SERVER_LINES.join(', ')} (default ${DEFAULT_LINE})
  --without-kafka      no broker (no kafka-stop faults, no topic check)
  --json               print every run's examples
  --help               this text

Exit 1 when a hold-off run lost an invalidation or left a stale key, or any run lost an invalidation.`;

const { values } = parseArgs({
  options: {
    help: { type: 'boolean', default: false },
    line: { type: 'string', default: DEFAULT_LINE },
    seeds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '20' },
    'first-seed': { type: 'string', default: '1' },
    mode: { type: 'string', default: 'both' },
    delays: { type: 'string', default: '1000,10000' },
    json: { type: 'boolean', default: false },
    'without-kafka': { type: 'boolean', default: false },
    faults: { type: 'string', default: 'all' },
  },
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const line = parseServerLine(values.line);
const seeds = Number(values.seeds);
const first = Number(values['first-seed']);
const durationS = Number(values.duration);
const modes: ChaosMode[] = values.mode === 'both' ? ['holdoff', 'plain'] : [values.mode as ChaosMode];
const delaysMs = values.delays.split(',').map(Number);
const faults = parseFaultKinds(values.faults);

const env = await startChaosEnv({ line, kafka: !values['without-kafka'] });
console.log(`chaos on ${line} (${env.extras.driver.flavor})`);
const results: RunResult[] = [];
let failed = false;
const t0 = Date.now();
try {
  for (let seed = first; seed < first + seeds; seed++) {
    for (const mode of modes) {
      const r = await runChaos(env, { seed, mode, durationS, delaysMs, faults });
      results.push(r);
      const bad =
        r.lostInvalidations > 0 ||
        (r.kafka?.missing ?? 0) > 0 ||
        (mode === 'holdoff' && r.staleKeysAfterQuiescence > 0);
      failed ||= bad;
      // Per delay: consistent within it / decided, then what the check at that delay itself found.
      const show = (d: {
        delayMs: number;
        consistent: number;
        stale: number;
        within: { consistent: number; stale: number };
      }) =>
        `${d.delayMs}ms within ${d.within.consistent}/${d.within.consistent + d.within.stale} ` +
        `(at the check ${d.consistent}/${d.consistent + d.stale})`;
      const s = r.sampler.delays.map(show);
      const ts = r.tailerSampler.delays.map(show);
      const k = r.kafka
        ? `kafka ${r.kafka.records} records, missing ${r.kafka.missing}, duplicates ${r.kafka.duplicates}, unexpected ${r.kafka.unexpected}`
        : 'kafka off';
      console.log(
        `${bad ? 'FAIL' : 'ok  '} seed ${seed} ${mode.padEnd(7)} writes ${r.writes} invalidations ${r.invalidations} ` +
          `faults ${JSON.stringify(r.faults)} lost ${r.lostInvalidations} stale-after ${r.staleKeysAfterQuiescence} ` +
          `stale-reads ${r.staleReads}/${r.reads} windows p50/p99/max ${r.staleWindowsMs.p50}/${r.staleWindowsMs.p99}/${r.staleWindowsMs.max} ms ` +
          `delivered keys ${r.keysDelivered} delete hits/misses ${r.deleteHits}/${r.deleteMisses} quiesce ${r.quiesceMs} ms ${k} ` +
          `sampler [${s.join(', ')}] in-tailer sampler [${ts.join(', ')}; ${r.tailerSampler.processes} processes, ` +
          `${r.tailerSampler.pendingLostToKills} pending lost to kills]`,
      );
      if (bad) {
        console.log(
          `    replay: npm run chaos -- --first-seed ${seed} --seeds 1 --mode ${mode} --duration ${durationS} ` +
            `--delays ${values.delays} --faults ${values.faults} --line ${line}` +
            `${values['without-kafka'] ? ' --without-kafka' : ''}`,
        );
      }
      if (bad || values.json) for (const e of r.examples) console.log(`    ${e}`);
    }
  }
} finally {
  await env.stop();
}

for (const mode of modes) {
  const rs = results.filter((r) => r.mode === mode);
  const sum = (f: (r: RunResult) => number) => rs.reduce((s, r) => s + f(r), 0);
  const faults = sum((r) => Object.values(r.faults).reduce((a, b) => a + (b ?? 0), 0));
  const windows = summarize(rs.flatMap((r) => (r.staleWindowsMs.count ? [r.staleWindowsMs.max] : [])));
  console.log(
    `\n${mode}: ${rs.length} runs, ${sum((r) => r.writes)} writes, ${sum((r) => r.invalidations)} invalidations, ` +
      `${faults} faults, lost ${sum((r) => r.lostInvalidations)}, stale keys after quiescence ` +
      `${sum((r) => r.staleKeysAfterQuiescence)}, stale reads ${sum((r) => r.staleReads)}/${sum((r) => r.reads)} ` +
      `(runs with stale windows: ${windows.count}, worst window ${windows.max} ms), ` +
      `keys delivered by the tailer ${sum((r) => r.keysDelivered)}, delete hits/misses ` +
      `${sum((r) => r.deleteHits)}/${sum((r) => r.deleteMisses)}`,
  );
  const faultCounts: Record<string, number> = {};
  for (const r of rs)
    for (const [f, n] of Object.entries(r.faults)) faultCounts[f] = (faultCounts[f] ?? 0) + (n ?? 0);
  console.log(`  faults: ${JSON.stringify(faultCounts)}`);
  const allWindows = summarize(rs.filter((r) => r.staleWindowsMs.count > 0).map((r) => r.staleWindowsMs.p50));
  console.log(
    `  stale-read windows: per-run p50 of runs with windows: median ${allWindows.p50} ms; worst p99 ` +
      `${Math.max(0, ...rs.map((r) => r.staleWindowsMs.p99))} ms; worst max ${Math.max(0, ...rs.map((r) => r.staleWindowsMs.max))} ms`,
  );
  const kafkaRuns = rs.filter((r) => r.kafka);
  if (kafkaRuns.length > 0) {
    const k = (f: (x: NonNullable<RunResult['kafka']>) => number) => sum((r) => (r.kafka ? f(r.kafka) : 0));
    console.log(
      `  kafka: ${k((x) => x.expected)} invalidations expected, ${k((x) => x.records)} records, missing ` +
        `${k((x) => x.missing)}, duplicates ${k((x) => x.duplicates)}, unexpected ${k((x) => x.unexpected)}`,
    );
  }
  type Counts = { consistent: number; stale: number; errors: number };
  const line = (
    name: string,
    get: (r: RunResult, i: number) => (Counts & { within: Counts }) | undefined,
  ) => {
    for (let i = 0; i < delaysMs.length; i++) {
      const c = sum((r) => get(r, i)?.within.consistent ?? 0);
      const st = sum((r) => get(r, i)?.within.stale ?? 0);
      const e = sum((r) => get(r, i)?.within.errors ?? 0);
      const atStale = sum((r) => get(r, i)?.stale ?? 0);
      const atChecks = sum((r) => (get(r, i)?.consistent ?? 0) + (get(r, i)?.stale ?? 0));
      const frac = c + st === 0 ? 'n/a' : `${((100 * c) / (c + st)).toFixed(4)}%`;
      console.log(
        `  ${name} within ${delaysMs[i]} ms: ${c}/${c + st} consistent (${frac}), ${e} undecided (check errors); ` +
          `at the ${delaysMs[i]} ms check itself: ${atStale} of ${atChecks} stale`,
      );
    }
  };
  line('sampler (checker)', (r, i) => r.sampler.delays[i]);
  line('sampler (in cachetail tail)', (r, i) => r.tailerSampler.delays[i]);
  console.log(
    `  in-tailer sampler: ${sum((r) => r.tailerSampler.processes)} tailer processes, ` +
      `${sum((r) => r.tailerSampler.pendingLostToKills)} pending checks lost to kills`,
  );
}
console.log(`\ntotal ${((Date.now() - t0) / 1000).toFixed(0)} s; seeds ${first}..${first + seeds - 1}`);
process.exit(failed ? 1 : 0);
