/**
 * `npm run chaos -- --seeds 50 --duration 20 [--first-seed 1] [--mode holdoff|plain|both] [--delays 1000,10000]`
 * Replay one run: `--first-seed <seed> --seeds 1 --mode <mode>`. Exit 1 when a hold-off run lost an
 * invalidation or left a stale key, or a plain run lost an invalidation.
 */
import { parseArgs } from 'node:util';
import { startChaosEnv } from './env.js';
import { runChaos, summarize, type ChaosMode, type RunResult } from './run.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '20' },
    'first-seed': { type: 'string', default: '1' },
    mode: { type: 'string', default: 'both' },
    delays: { type: 'string', default: '1000,10000' },
    json: { type: 'boolean', default: false },
  },
});
const seeds = Number(values.seeds);
const first = Number(values['first-seed']);
const durationS = Number(values.duration);
const modes: ChaosMode[] = values.mode === 'both' ? ['holdoff', 'plain'] : [values.mode as ChaosMode];
const delaysMs = values.delays.split(',').map(Number);

const env = await startChaosEnv();
const results: RunResult[] = [];
let failed = false;
const t0 = Date.now();
try {
  for (let seed = first; seed < first + seeds; seed++) {
    for (const mode of modes) {
      const r = await runChaos(env, { seed, mode, durationS, delaysMs });
      results.push(r);
      const bad = r.lostInvalidations > 0 || (mode === 'holdoff' && r.staleKeysAfterQuiescence > 0);
      failed ||= bad;
      const s = r.sampler.delays.map((d) => `${d.delayMs}ms ${d.consistent}/${d.consistent + d.stale}`);
      console.log(
        `${bad ? 'FAIL' : 'ok  '} seed ${seed} ${mode.padEnd(7)} writes ${r.writes} invalidations ${r.invalidations} ` +
          `faults ${JSON.stringify(r.faults)} lost ${r.lostInvalidations} stale-after ${r.staleKeysAfterQuiescence} ` +
          `stale-reads ${r.staleReads}/${r.reads} windows p50/p99/max ${r.staleWindowsMs.p50}/${r.staleWindowsMs.p99}/${r.staleWindowsMs.max} ms ` +
          `delete hits/misses ${r.deleteHits}/${r.deleteMisses} quiesce ${r.quiesceMs} ms sampler [${s.join(', ')}]`,
      );
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
      `delete misses ${sum((r) => r.deleteMisses)}`,
  );
  for (let i = 0; i < delaysMs.length; i++) {
    const c = sum((r) => r.sampler.delays[i]?.consistent ?? 0);
    const st = sum((r) => r.sampler.delays[i]?.stale ?? 0);
    const e = sum((r) => r.sampler.delays[i]?.errors ?? 0);
    const frac = c + st === 0 ? 'n/a' : `${((100 * c) / (c + st)).toFixed(4)}%`;
    console.log(`  sampler within ${delaysMs[i]} ms: ${c}/${c + st} consistent (${frac}), ${e} check errors`);
  }
}
console.log(`\ntotal ${((Date.now() - t0) / 1000).toFixed(0)} s; seeds ${first}..${first + seeds - 1}`);
process.exit(failed ? 1 : 0);
