/**
 * The short version of `npm run chaos` (docs/consistency.md): seeded fault schedules in hold-off mode on
 * real servers (seeds chosen to cover lag, rotation, tailer kills and memcached pauses; own MariaDB pair + memcached, the `cachetail tail` process). Every schedule must end
 * with 0 lost invalidations, 0 stale keys after quiescence, and the sampler finding every sampled key
 * consistent 1 s after its acknowledged invalidation.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startChaosEnv, type ChaosEnv } from '../../scripts/chaos/env.js';
import { runChaos } from '../../scripts/chaos/run.js';

const info = inject('cluster');
let env: ChaosEnv | undefined;

beforeAll(async () => {
  env = await startChaosEnv({ template: join(info.baseDir, 'mariadb-template') });
});

afterAll(async () => {
  await env?.stop();
});

describe('chaos: seeded fault schedules in hold-off mode', () => {
  for (const seed of [1, 11, 12]) {
    it(`seed ${seed}: 0 lost invalidations, 0 stale keys after quiescence`, { timeout: 60_000 }, async () => {
      const r = await runChaos(env!, { seed, mode: 'holdoff', durationS: 8, delaysMs: [1000] });
      console.log(
        `chaos seed ${seed}: ${r.writes} writes, ${r.invalidations} invalidations, faults ${JSON.stringify(r.faults)}, ` +
          `stale reads ${r.staleReads}/${r.reads}, sampler ${JSON.stringify(r.sampler.delays)}`,
      );
      expect(r.examples).toEqual([]);
      expect(r.lostInvalidations).toBe(0);
      expect(r.staleKeysAfterQuiescence).toBe(0);
      expect(r.writes).toBeGreaterThan(100);
      expect(Object.values(r.faults).reduce((a, b) => a + (b ?? 0), 0)).toBeGreaterThan(0);
      const oneSecond = r.sampler.delays[0];
      // Every write's key was sampled (every: 1) and checked once; none stale in hold-off mode.
      expect(oneSecond.stale).toBe(0);
      expect(oneSecond.checks).toBe(r.writes);
    });
  }
});
