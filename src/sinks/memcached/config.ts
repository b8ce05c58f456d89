/**
 * The memcached sink's config section, for the config owner to embed as `memcached` in
 * src/config/schema.ts. Defaults and a description per field; units are milliseconds/bytes/seconds as
 * named. The journal directory is not here: it is `<stateDir>/memcached-journal`, passed by the caller.
 */
import { z } from 'zod';
import { hostPortSchema } from '../host-port.js';

const backoff = (initialMs: number, maxMs: number) =>
  z
    .object({
      initialMs: z.number().int().positive().default(initialMs),
      maxMs: z.number().int().positive().default(maxMs),
    })
    .strict()
    .default({ initialMs, maxMs });

export const memcachedSinkOptionsSchema = z
  .object({
    servers: z
      .array(hostPortSchema)
      .min(1)
      .describe("The region's memcached servers, in the app client's order (routing depends on it)."),
    hashing: z
      .enum(['memjs', 'ketama', 'broadcast'])
      .default('memjs')
      .describe(
        'Key → server mapping of the app client: memjs (memjs default), ketama (libmemcached ' +
          'KETAMA_WEIGHTED, php-memcached LIBKETAMA_COMPATIBLE, node memcached), broadcast (every server).',
      ),
    weights: z
      .array(z.number().int().min(1))
      .optional()
      .describe(
        'ketama only: one weight per server, same order, as given to the app client (default 1 each).',
      ),
    timeoutMs: z
      .number()
      .int()
      .positive()
      .default(1_000)
      .describe(
        'A server that sends nothing for this long while requests are outstanding has failed (hang detection).',
      ),
    connectTimeoutMs: z.number().int().positive().default(1_000).describe('TCP connect timeout.'),
    attemptsBeforeDown: z
      .number()
      .int()
      .min(1)
      .default(3)
      .describe(
        'Failed attempts of one delivery before the server is declared down and its deletes journaled.',
      ),
    retries: z
      .number()
      .int()
      .min(0)
      .default(1_000_000)
      .describe('Only without a state dir (no journal): attempts per delete before the tailer stops.'),
    retryBackoff: backoff(50, 1_000).describe(
      'Backoff between attempts while the server is still considered up.',
    ),
    probeBackoff: backoff(50, 250).describe(
      'Backoff between probes of a down server. Its cap bounds how long a restarted (empty) server can ' +
        'take a stale fill before the journaled deletes/tombstones reach it (docs/consistency.md).',
    ),
    onServerRecovery: z
      .enum(['replay', 'flush'])
      .default('replay')
      .describe(
        'A server back after being down: replay its journaled deletes, or flush_all it before reuse.',
      ),
    holdOff: z
      .object({
        enabled: z.boolean().default(false),
        ttlSeconds: z.number().int().min(1).max(2_592_000).default(10),
      })
      .strict()
      .default({ enabled: false, ttlSeconds: 10 })
      .describe(
        'Write a short-lived tombstone instead of deleting, so an add-based fill cannot restore a stale value.',
      ),
    journal: z
      .object({
        maxBytesPerServer: z
          .number()
          .int()
          .positive()
          .default(256 * 1024 * 1024),
        replayChunkBytes: z
          .number()
          .int()
          .min(65_536)
          .default(1024 * 1024),
      })
      .strict()
      .default({ maxBytesPerServer: 256 * 1024 * 1024, replayChunkBytes: 1024 * 1024 })
      .describe(
        'Per-server journal bound (beyond it: flush on recovery instead of replay) and replay read size.',
      ),
    groupKeys: z
      .number()
      .int()
      .min(1)
      .max(65_536)
      .default(1_024)
      .describe('Keys per pipelined group (one NOOP acknowledgement each).'),
    groupsInFlight: z
      .number()
      .int()
      .min(1)
      .max(1_024)
      .default(16)
      .describe(
        'Groups sent ahead on one server connection before waiting for the oldest to be acknowledged.',
      ),
  })
  .strict()
  .refine((c) => !c.weights || c.weights.length === c.servers.length, {
    message: 'memcached.weights needs one weight per server',
    path: ['weights'],
  })
  .refine((c) => !c.weights || c.hashing === 'ketama', {
    message: 'memcached.weights only apply to hashing "ketama"',
    path: ['weights'],
  });

export type MemcachedSinkConfigInput = z.input<typeof memcachedSinkOptionsSchema>;
export type MemcachedSinkConfig = Readonly<z.output<typeof memcachedSinkOptionsSchema>>;
