/**
 * Kafka configuration: the connection (shared by the publishing tailer, `cachetail kafka init` and
 * `cachetail consume`) and the publisher's section, for the config owner to embed as `kafka` in the
 * tailer config. Defaults and a description per field, as in src/config/schema.ts. Secrets (the SASL
 * password, TLS key) come from env or files, are resolved once in client.ts and are never logged.
 */
import { z } from 'zod';
import { hostPortSchema } from '../host-port.js';

/** Kafka's legal topic names (kafka.common.internals.Topic). */
const topicName = z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'a topic name is 1-249 of [A-Za-z0-9._-]');

/** Env booleans arrive as text. */
const flag = (dflt: boolean) =>
  z.preprocess(
    (v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v),
    z.boolean().default(dflt),
  );

const backoff = (initialMs: number, maxMs: number) =>
  z
    .object({
      initialMs: z.number().int().positive().default(initialMs),
      maxMs: z.number().int().positive().default(maxMs),
    })
    .strict()
    .default({ initialMs, maxMs });

export const kafkaSslSchema = z
  .object({
    enabled: flag(false).describe('TLS to the brokers.'),
    caFile: z.string().optional().describe('PEM file of the CA(s) to trust (default: the system CAs).'),
    certFile: z.string().optional().describe('Client certificate (PEM), for mutual TLS.'),
    keyFile: z.string().optional().describe('Client key (PEM) for certFile; never logged.'),
    rejectUnauthorized: flag(true).describe(
      'Verify the brokers’ certificates. Leave on: off accepts any server that answers.',
    ),
  })
  .strict()
  .refine((s) => (s.certFile === undefined) === (s.keyFile === undefined), {
    message: 'ssl.certFile and ssl.keyFile go together',
    path: ['keyFile'],
  });

export const kafkaSaslSchema = z
  .object({
    mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
    username: z.string().min(1),
    password: z
      .string()
      .default('')
      .describe('Prefer CACHETAIL_KAFKA_SASL_PASSWORD or sasl.passwordFile. Never logged.'),
    passwordFile: z.string().optional().describe('File holding the password (trailing newline ignored).'),
  })
  .strict();

/** How to reach the cluster; the same block for the publisher, `kafka init` and the consumer. */
export const kafkaConnectionShape = {
  brokers: z.array(hostPortSchema).default([]).describe('Bootstrap brokers (host:port).'),
  clientId: z.string().min(1).default('cachetail').describe('Kafka client id (broker logs, quotas).'),
  connectTimeoutMs: z.number().int().positive().default(3_000).describe('TCP/TLS connect timeout.'),
  requestTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(30_000)
    .describe('A request without a response for this long has failed (and is retried).'),
  ssl: kafkaSslSchema.optional(),
  sasl: kafkaSaslSchema.optional(),
};

/** Plain SASL sends the password as is: only over TLS. */
function saslNeedsTls(c: {
  ssl?: { enabled: boolean } | undefined;
  sasl?: { mechanism: string } | undefined;
}): boolean {
  return c.sasl?.mechanism !== 'plain' || c.ssl?.enabled === true;
}
const saslNeedsTlsIssue = {
  message: 'sasl.mechanism "plain" sends the password in clear: enable ssl (or use scram-sha-512)',
  path: ['sasl', 'mechanism'],
};

export const kafkaTopicSettingsSchema = z
  .object({
    partitions: z
      .number()
      .int()
      .min(1)
      .default(12)
      .describe(
        'Partitions of the invalidation topic (keys hash onto them; more = more consumer parallelism).',
      ),
    replicationFactor: z.number().int().min(1).default(3).describe('Copies of each partition.'),
    minInsyncReplicas: z
      .number()
      .int()
      .min(1)
      .default(2)
      .describe('With acks=all, a write needs this many in-sync copies, so one lost broker loses nothing.'),
    retentionMs: z
      .number()
      .int()
      .positive()
      .default(7 * 24 * 3600 * 1000)
      .describe('How long invalidations stay readable (a consumer down longer than this misses some).'),
  })
  .strict()
  .refine((t) => t.minInsyncReplicas <= t.replicationFactor, {
    message: 'minInsyncReplicas cannot exceed replicationFactor',
    path: ['minInsyncReplicas'],
  })
  .default({ partitions: 12, replicationFactor: 3, minInsyncReplicas: 2, retentionMs: 7 * 24 * 3600 * 1000 });

export const kafkaConfigSchema = z
  .object({
    enabled: flag(false).describe(
      'Publish every invalidation on Kafka too (a second tailer with its own cursor; see docs/kafka.md).',
    ),
    ...kafkaConnectionShape,
    topic: topicName.default('cache-invalidations').describe('Topic of the Invalidation messages.'),
    appliedTopic: topicName
      .default('cache-invalidations-applied')
      .describe('Topic of the InvalidationApplied watermarks (compacted).'),
    tailerId: z
      .string()
      .min(1)
      .optional()
      .describe('Names this tailer in InvalidationApplied (default: the host name).'),
    serverId: z
      .number()
      .int()
      .min(1)
      .max(0xffffffff)
      .optional()
      .describe(
        'Server id the Kafka tailer registers with (default source.serverId + 1); unique in the topology.',
      ),
    producer: z
      .object({
        compression: z
          .enum(['none', 'gzip'])
          .default('none')
          .describe('Batch compression (kafkajs ships gzip only; others need codecs).'),
        maxBatchKeys: z
          .number()
          .int()
          .positive()
          .default(1_000)
          .describe('Messages per produce request at most (the tailer batches up to batch.maxKeys).'),
        retryBackoff: backoff(200, 10_000).describe(
          'Backoff between attempts of an unacknowledged batch; attempts never stop (nothing is dropped).',
        ),
      })
      .strict()
      .default({
        compression: 'none',
        maxBatchKeys: 1_000,
        retryBackoff: { initialMs: 200, maxMs: 10_000 },
      }),
    applied: z
      .object({
        enabled: flag(true).describe("Publish the memcached tailer's watermark as InvalidationApplied."),
        intervalMs: z
          .number()
          .int()
          .positive()
          .default(1_000)
          .describe('How often the watermark is checked; a changed one is published.'),
        heartbeatMs: z
          .number()
          .int()
          .positive()
          .default(30_000)
          .describe('An unchanged watermark is published again this often (consumers see it is fresh).'),
      })
      .strict()
      .default({ enabled: true, intervalMs: 1_000, heartbeatMs: 30_000 }),
    topics: kafkaTopicSettingsSchema.describe('Settings `cachetail kafka init` creates the topics with.'),
  })
  .strict()
  .refine((c) => !c.enabled || c.brokers.length > 0, {
    message: 'kafka.enabled needs at least one broker',
    path: ['brokers'],
  })
  .refine(saslNeedsTls, saslNeedsTlsIssue);

export type KafkaConfigInput = z.input<typeof kafkaConfigSchema>;
export type KafkaConfig = Readonly<z.output<typeof kafkaConfigSchema>>;

/** What client.ts needs to connect: the connection fields of either config. */
export interface KafkaConnectionConfig {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly ssl?: z.output<typeof kafkaSslSchema> | undefined;
  readonly sasl?: z.output<typeof kafkaSaslSchema> | undefined;
}

export { saslNeedsTls, saslNeedsTlsIssue };

/**
 * Env overrides of the section, as `[path, kind]` under `kafka` (CACHETAIL_KAFKA_BROKERS,
 * CACHETAIL_KAFKA_SASL_PASSWORD, …), for the config owner to append to the tailer's env paths.
 */
export function kafkaEnvPaths(prefix: readonly string[] = ['kafka']) {
  const p = (...path: string[]) => [...prefix, ...path];
  return [
    [p('enabled'), 'string'],
    [p('brokers'), 'list'],
    [p('clientId'), 'string'],
    [p('topic'), 'string'],
    [p('appliedTopic'), 'string'],
    [p('tailerId'), 'string'],
    [p('serverId'), 'number'],
    [p('ssl', 'enabled'), 'string'],
    [p('ssl', 'caFile'), 'string'],
    [p('ssl', 'certFile'), 'string'],
    [p('ssl', 'keyFile'), 'string'],
    [p('sasl', 'mechanism'), 'string'],
    [p('sasl', 'username'), 'string'],
    [p('sasl', 'password'), 'string'],
    [p('sasl', 'passwordFile'), 'string'],
  ] as const satisfies ReadonlyArray<readonly [readonly string[], 'string' | 'number' | 'list']>;
}
