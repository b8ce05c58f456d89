import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/logger.js';
import { memcachedSinkOptionsSchema } from '../../../src/sinks/memcached/config.js';
import { memcachedSinkOptions } from '../../../src/sinks/memcached/sink.js';

describe('memcached sink config', () => {
  it('fills every default', () => {
    expect(memcachedSinkOptionsSchema.parse({ servers: ['127.0.0.1:11211'] })).toEqual({
      servers: ['127.0.0.1:11211'],
      hashing: 'memjs',
      timeoutMs: 1_000,
      connectTimeoutMs: 1_000,
      attemptsBeforeDown: 3,
      retries: 1_000_000,
      retryBackoff: { initialMs: 50, maxMs: 1_000 },
      probeBackoff: { initialMs: 50, maxMs: 250 },
      onServerRecovery: 'replay',
      holdOff: { enabled: false, ttlSeconds: 10 },
      journal: { maxBytesPerServer: 268_435_456, replayChunkBytes: 1_048_576 },
      groupKeys: 1_024,
      groupsInFlight: 16,
    });
  });

  it('rejects weights that do not fit the servers or the mode, and unknown fields', () => {
    const issues = (input: unknown) =>
      memcachedSinkOptionsSchema
        .safeParse(input)
        .error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues({ servers: ['a:1', 'b:2'], hashing: 'ketama', weights: [1] })).toEqual([
      'weights: memcached.weights needs one weight per server',
    ]);
    expect(issues({ servers: ['a:1'], weights: [2] })).toEqual([
      'weights: memcached.weights only apply to hashing "ketama"',
    ]);
    expect(issues({ servers: ['a'] })).toEqual([
      'servers.0: expected host:port with a port 1-65535, got "a"',
    ]);
    expect(issues({ servers: ['a:1'], onServerRecovery: 'ignore' })?.[0]).toMatch(/^onServerRecovery: /);
    expect(issues({ servers: ['a:1'], bogus: 1 })?.[0]).toMatch(/bogus/);
  });

  it('maps onto the sink options, with hold-off only when enabled', () => {
    const log = createLogger('silent');
    const config = memcachedSinkOptionsSchema.parse({
      servers: ['a:1', 'b:2'],
      hashing: 'ketama',
      weights: [1, 3],
      holdOff: { enabled: true, ttlSeconds: 5 },
      onServerRecovery: 'flush',
    });
    const opts = memcachedSinkOptions(config, { log, journalDir: '/var/lib/cachetail/memcached-journal' });
    expect({ ...opts, log: undefined }).toEqual({
      servers: ['a:1', 'b:2'],
      hashing: 'ketama',
      weights: [1, 3],
      timeoutMs: 1_000,
      connectTimeoutMs: 1_000,
      attemptsBeforeDown: 3,
      retries: 1_000_000,
      backoff: { initialMs: 50, maxMs: 1_000 },
      probeBackoff: { initialMs: 50, maxMs: 250 },
      onServerRecovery: 'flush',
      holdOff: { ttlSeconds: 5 },
      maxJournalBytesPerServer: 268_435_456,
      replayChunkBytes: 1_048_576,
      groupKeys: 1_024,
      groupsInFlight: 16,
      journalDir: '/var/lib/cachetail/memcached-journal',
      log: undefined,
    });
  });
});
