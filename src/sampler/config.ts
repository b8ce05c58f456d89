/**
 * The `consistency` config section, for the tailer schema to embed (`consistency: samplerConfigSchema`).
 * Off by default: every sampled key costs a few memcached gets and replica reads per delay.
 */
import { z } from 'zod';

export const DEFAULT_SAMPLER_DELAYS_MS: readonly number[] = [1_000, 10_000, 60_000];

export const samplerConfigSchema = z
  .object({
    enabled: z.boolean().default(false),
    every: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(100)
      .describe('Check 1 in this many invalidated keys.'),
    delaysMs: z
      .array(z.number().int().min(0).max(3_600_000))
      .min(1)
      .max(10)
      .default([...DEFAULT_SAMPLER_DELAYS_MS])
      .describe('Check each sampled key this long after its delete was acknowledged.'),
    maxPending: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(10_000)
      .describe('Sampled keys waiting for their checks; more are skipped (counted), so memory is bounded.'),
  })
  .strict()
  .default({ enabled: false, every: 100, delaysMs: [...DEFAULT_SAMPLER_DELAYS_MS], maxPending: 10_000 })
  .describe(
    'Consistency sampler: fraction of invalidated keys consistent with the replica after each delay.',
  );

export type SamplerConfig = z.output<typeof samplerConfigSchema>;
