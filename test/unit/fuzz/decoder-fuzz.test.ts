/**
 * A short run of the decoder fuzzer (scripts/fuzz) inside the suite: 5,000 mutated events, fixed seed.
 * The long runs are `npm run fuzz` (CI runs 20,000 cases after the tests); this one makes a decoder
 * change that throws an untyped error, loses an error's position or blows up an event's memory fail
 * right here, with the case to replay in the message.
 */
import { describe, expect, it } from 'vitest';
import { runCampaign } from '../../../scripts/fuzz/campaign.js';
import { binlogFixturesDir, loadCorpus } from '../../../scripts/fuzz/corpus.js';

describe('decoder fuzz smoke', () => {
  it('5,000 mutated events: only typed errors naming file and position, bounded memory (no time guard)', () => {
    const corpus = loadCorpus(binlogFixturesDir);
    const stats = runCampaign(corpus, {
      seed: 20240611,
      cases: 5_000,
      maxFailures: 5,
      slowCaseMs: Infinity,
    });
    const failures = stats.failures.map(
      (f) => `npm run fuzz -- --replay ${f.seed}:${f.index} (${f.source}): ${f.problems.join('; ')}`,
    );
    expect(failures).toEqual([]);
    expect(stats.cases).toBe(5_000);
    // The mutations must reach the body decoders, not only the CRC and framing checks.
    expect(stats.outcomes.get('decoded') ?? 0).toBeGreaterThan(1_000);
    expect(stats.keys).toBeGreaterThan(0);
  });
});
