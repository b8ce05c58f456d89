// The consistency sampler (docs/consistency.md): a self-contained module the tailer wires in.
export { DEFAULT_SAMPLER_DELAYS_MS, samplerConfigSchema, type SamplerConfig } from './config.js';
export {
  CHECK_RESULTS,
  compareWithTruth,
  createConsistencySampler,
  delayLabel,
  type CacheRead,
  type CheckResult,
  type ConsistencyReport,
  type ConsistencySampler,
  type ConsistencySamplerOptions,
  type DelayReport,
  type SampledTransaction,
  type SamplerLog,
  type Verdict,
} from './sampler.js';
export { memcachedEnvelopeReader, type EnvelopeCacheClient } from './readers.js';
