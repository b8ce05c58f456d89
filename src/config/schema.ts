/**
 * The one configuration schema for `cachetail tail`: defaults and a description per field. Loaded from
 * a JSON file and/or CACHETAIL_* environment variables (see load.ts), validated once, frozen; units are
 * converted here, never downstream.
 */
import { z } from 'zod';
import { kafkaConfigSchema } from '../sinks/kafka/config.js';
import { samplerConfigSchema } from '../sampler/config.js';
import { memcachedSinkOptionsSchema } from '../sinks/memcached/config.js';

/** Env booleans arrive as text. */
const flag = (dflt: boolean) =>
  z.preprocess(
    (v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v),
    z.boolean().default(dflt),
  );

/** TLS to the replica (the same shape as kafka.ssl); mysql2 does the handshake. */
export const sourceSslSchema = z
  .object({
    enabled: flag(false).describe(
      'TLS to the replica. Needed for an account created REQUIRE SSL/X509 or a server with ' +
        "require_secure_transport=ON; without it caching_sha2_password fetches the server's RSA key.",
    ),
    caFile: z
      .string()
      .optional()
      .describe('PEM file of the CA(s) to trust (default: the system CAs; MySQL: ca.pem in its datadir).'),
    certFile: z.string().optional().describe('Client certificate (PEM), for accounts created REQUIRE X509.'),
    keyFile: z.string().optional().describe('Client key (PEM) for certFile; never logged.'),
    rejectUnauthorized: flag(true).describe(
      'Verify the server certificate against the CAs. Leave on: off accepts any server that answers.',
    ),
    verifyIdentity: flag(false).describe(
      "Also require the certificate to name source.host (MySQL VERIFY_IDENTITY); MySQL's auto-generated " +
        'certificates do not.',
    ),
  })
  .strict()
  .refine((s) => (s.certFile === undefined) === (s.keyFile === undefined), {
    message: 'ssl.certFile and ssl.keyFile go together',
    path: ['keyFile'],
  });

export const tailerConfigSchema = z
  .object({
    region: z.string().min(1).default('local').describe('Name of the region this tailer invalidates.'),
    source: z
      .object({
        host: z.string().min(1).default('127.0.0.1').describe('The local replica to tail.'),
        port: z.number().int().min(1).max(65535).default(3306),
        user: z
          .string()
          .min(1)
          .describe(
            "The tailer's account: REPLICATION SLAVE, BINLOG MONITOR, SLAVE MONITOR on MariaDB 10.5.9+; " +
              'REPLICATION SLAVE, REPLICATION CLIENT on MySQL and older MariaDB (docs/production.md §2).',
          ),
        password: z
          .string()
          .default('')
          .describe('Password; prefer CACHETAIL_SOURCE_PASSWORD or source.passwordFile. Never logged.'),
        passwordFile: z.string().optional().describe('File holding the password (trailing newline ignored).'),
        serverId: z
          .number()
          .int()
          .min(1)
          .max(0xffffffff)
          .default(4_000_001)
          .describe('Server id cachetail registers with; unique in the replication topology.'),
        connectTimeoutMs: z.number().int().positive().default(10_000),
        heartbeatMs: z
          .number()
          .int()
          .min(0)
          .default(2_000)
          .describe('Server heartbeat after this long without events, so a dead link is noticed.'),
        livenessTimeoutMs: z
          .number()
          .int()
          .min(0)
          .default(10_000)
          .describe('No event or heartbeat for this long: the connection is dead, reconnect (0 = off).'),
        ssl: sourceSslSchema.optional(),
      })
      .strict(),
    start: z
      .union([
        z.object({ kind: z.literal('current') }).strict(),
        z.object({ kind: z.literal('gtid'), gtid: z.string() }).strict(),
        z
          .object({ kind: z.literal('file'), file: z.string().min(1), position: z.number().int().min(4) })
          .strict(),
      ])
      .default({ kind: 'current' })
      .describe('Where to start reading: the current end of the binlog, a GTID state, or a file/position.'),
    stateDir: z
      .string()
      .min(1)
      .default('./state')
      .describe('Directory for the checkpoint (and the sink journal); keep it on a persistent volume.'),
    checkpoint: z
      .object({
        intervalMs: z
          .number()
          .int()
          .positive()
          .default(250)
          .describe('How often the acknowledged position is written (a restart repeats at most this much).'),
      })
      .strict()
      .default({ intervalMs: 250 }),
    gapPolicy: z
      .enum(['fail-closed', 'flush'])
      .default('fail-closed')
      .describe(
        'On a gap (position purged, server changed without GTID, undecodable event): fail-closed stops and ' +
          'reports not-ready (the edge pins users to the master region); flush empties the regional tier ' +
          'and continues from the current end of the binlog.',
      ),
    shutdown: z
      .object({
        drainMs: z
          .number()
          .int()
          .min(0)
          .default(10_000)
          .describe('On SIGTERM, how long in-flight deletes may take before the tailer exits.'),
      })
      .strict()
      .default({ drainMs: 10_000 }),
    memcached: memcachedSinkOptionsSchema,
    batch: z
      .object({
        maxKeys: z.number().int().positive().default(1_000),
        maxPendingTransactions: z
          .number()
          .int()
          .positive()
          .default(10_000)
          .describe('Reading from the replica pauses while this many committed transactions await deletes.'),
        maxPendingKeys: z
          .number()
          .int()
          .positive()
          .default(200_000)
          .describe('Reading also pauses while this many keys (held in memory) await deletes.'),
        spillThresholdKeys: z
          .number()
          .int()
          .positive()
          .default(50_000)
          .describe('A transaction with more keys spills them to <stateDir>/spill, keeping memory bounded.'),
      })
      .strict()
      .default({
        maxKeys: 1_000,
        maxPendingTransactions: 10_000,
        maxPendingKeys: 200_000,
        spillThresholdKeys: 50_000,
      }),
    kafka: kafkaConfigSchema.prefault({}),
    consistency: samplerConfigSchema,
    outbox: z
      .object({
        tables: z
          .array(z.string().regex(/^[^.\s]+\.[^.\s]+$/, 'expected db.table'))
          .default([])
          .describe('Outbox mode: tables (db.table) whose inserted rows carry keys (docs/app-library.md).'),
      })
      .strict()
      .default({ tables: [] }),
    status: z
      .object({
        host: z
          .string()
          .min(1)
          .default('127.0.0.1')
          .describe('Address of /healthz /readyz /metrics /status; loopback unless you mean otherwise.'),
        port: z
          .number()
          .int()
          .min(0)
          .max(65535)
          .default(9464)
          .describe('Status server port (0 = any free port).'),
        maxLagSeconds: z
          .number()
          .positive()
          .optional()
          .describe('Not ready when replication lag exceeds this (keep it ≤ the edge recent-write window).'),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 9464 }),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info') })
      .strict()
      .default({ level: 'info' }),
  })
  .strict();

export type TailerConfigInput = z.input<typeof tailerConfigSchema>;
export type TailerConfig = Readonly<z.output<typeof tailerConfigSchema>>;
