/**
 * readCache for applications that fill with cachetail/app's getOrLoad: the envelope's data, as JSON
 * text, so readTruth must return JSON.stringify of the value the loader would return. A value that is not
 * our envelope counts as a value ('<not-envelope>'), so it shows up as stale rather than hiding.
 */
import { decodeEnvelope } from '../app/envelope.js';
import { isTombstone } from '../sinks/memcached/tombstone.js';
import type { CacheRead } from './sampler.js';

export interface EnvelopeCacheClient {
  get(key: string): Promise<{ value: Buffer | null }>;
}

export function memcachedEnvelopeReader(
  client: EnvelopeCacheClient,
  type = 'json',
): (key: string) => Promise<CacheRead> {
  return async (key) => {
    const { value } = await client.get(key);
    if (value === null) return { state: 'absent' };
    if (isTombstone(value)) return { state: 'tombstone' };
    const decoded = decodeEnvelope(type, value);
    return { state: 'value', value: decoded.ok ? JSON.stringify(decoded.value) : `<${decoded.why}>` };
  };
}
