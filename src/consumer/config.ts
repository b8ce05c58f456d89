/**
 * Configuration of `cachetail consume`: which topic to read (the Kafka connection block is the
 * publisher's, src/sinks/kafka/config.ts) and which memcached tier to apply it to (the tailer's
 * memcached section: same servers list, hashing modes, journal). Loaded like the tailer's: JSON file
 * and/or CACHETAIL_* env vars, validated once, frozen.
 */
import { z } from 'zod';
import { hostPortSchema } from '../sinks/host-port.js';
import { loadConfig } from '../config/load.js';
import { memcachedSinkOptionsSchema } from '../sinks/memcached/config.js';
import { kafkaConnectionShape, saslNeedsTls, saslNeedsTlsIssue } from '../sinks/kafka/config.js';

const regionName = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'a region name is 1-64 of [A-Za-z0-9_.-]');

export const consumerConfigSchema = z
  .object({
    region: regionName
      .default('local')
      .describe('Name of the tier this consumer invalidates (logs, group id).'),
    kafka: z
      .object({
        ...kafkaConnectionShape,
        // Required here (the publisher's list may be empty while kafka.enabled is off), so that a missing
        // list is reported as required, with its variable.
        brokers: z
          .array(hostPortSchema)
          .min(1, 'at least one broker')
          .describe('Bootstrap brokers (host:port).'),
        clientId: z.string().min(1).default('cachetail-consume'),
        topic: z.string().min(1).default('cache-invalidations'),
        groupId: z
          .string()
          .min(1)
          .optional()
          .describe(
            'Consumer group (default cachetail-consume-<region>). One group per cache tier: every tier needs every message.',
          ),
        start: z
          .enum(['earliest', 'latest'])
          .default('earliest')
          .describe(
            'Where a new group starts: earliest replays the retained topic (deletes are harmless; a tier ' +
              'that already holds values needs them), latest only takes what comes next.',
          ),
        sessionTimeoutMs: z.number().int().positive().default(30_000),
      })
      .strict()
      .refine(saslNeedsTls, saslNeedsTlsIssue),
    memcached: memcachedSinkOptionsSchema,
    stateDir: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Directory for the memcached journal (<stateDir>/memcached-journal): a down server’s deletes are ' +
          'journaled and the offsets move on. Without it a down server holds the consumer back.',
      ),
    batch: z
      .object({
        maxKeys: z
          .number()
          .int()
          .positive()
          .default(1_000)
          .describe('Messages applied (deleted, then committed) per step of a fetched batch.'),
      })
      .strict()
      .default({ maxKeys: 1_000 }),
    dedup: z
      .object({
        windowSize: z
          .number()
          .int()
          .min(0)
          .default(100_000)
          .describe('Recent event ids remembered; a repeat within them is not deleted again (0 = off).'),
      })
      .strict()
      .default({ windowSize: 100_000 }),
    onMalformed: z
      .enum(['stop', 'skip'])
      .default('stop')
      .describe(
        'A message that is not a cachetail.v1.Invalidation: stop (uncommitted, exit 1) or skip it (counted).',
      ),
    lag: z
      .object({
        intervalMs: z
          .number()
          .int()
          .positive()
          .default(10_000)
          .describe('How often the group lag is read from the brokers, exported and logged.'),
      })
      .strict()
      .default({ intervalMs: 10_000 }),
    status: z
      .object({
        host: z.string().min(1).default('127.0.0.1').describe('Address of /healthz /metrics /status.'),
        port: z
          .number()
          .int()
          .min(0)
          .max(65535)
          .default(9466)
          .describe(
            '0 = any free port. Not the tailer’s 9464 or the edge admin’s 9465: they may share a host.',
          ),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 9466 }),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .strict()
      .default({ level: 'info' }),
  })
  .strict();

export type ConsumerConfigInput = z.input<typeof consumerConfigSchema>;
export type ConsumerConfig = Readonly<z.output<typeof consumerConfigSchema>>;

export const consumerEnvPaths = [
  [['region'], 'string'],
  [['kafka', 'brokers'], 'list'],
  [['kafka', 'clientId'], 'string'],
  [['kafka', 'topic'], 'string'],
  [['kafka', 'groupId'], 'string'],
  [['kafka', 'start'], 'string'],
  [['kafka', 'ssl', 'enabled'], 'string'],
  [['kafka', 'ssl', 'caFile'], 'string'],
  [['kafka', 'ssl', 'certFile'], 'string'],
  [['kafka', 'ssl', 'keyFile'], 'string'],
  [['kafka', 'sasl', 'mechanism'], 'string'],
  [['kafka', 'sasl', 'username'], 'string'],
  [['kafka', 'sasl', 'password'], 'string'],
  [['kafka', 'sasl', 'passwordFile'], 'string'],
  [['memcached', 'servers'], 'list'],
  [['memcached', 'hashing'], 'string'],
  [['stateDir'], 'string'],
  [['status', 'host'], 'string'],
  [['status', 'port'], 'number'],
  [['log', 'level'], 'string'],
] as const;

export function consumerGroupId(config: ConsumerConfig): string {
  return config.kafka.groupId ?? `cachetail-consume-${config.region}`;
}

/** Loads, validates and freezes the consumer config (secret files are read when the client is built). */
export function loadConsumerConfig(file: string | undefined, env: NodeJS.ProcessEnv): ConsumerConfig {
  return loadConfig({ schema: consumerConfigSchema, envPaths: consumerEnvPaths, file, env });
}
