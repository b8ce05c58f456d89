/**
 * The one place that turns Kafka connection config into a kafkajs client: secrets are read from their
 * files here (once, at build time, so a missing file stops the start with a clear error instead of a
 * reconnect loop), and kafkajs's own log lines go to our logger at debug level — every failure that
 * matters is reported once by the component that retries it, with its attempt count and backoff.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Kafka, logLevel, type KafkaConfig as KafkajsConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import { CachetailError, errorMessage, type ErrorCode } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { KafkaConnectionConfig } from './config.js';

function readSecret(path: string, what: string, trimNewline: boolean): string {
  try {
    const text = readFileSync(path, 'utf8');
    return trimNewline ? text.replace(/\r?\n$/, '') : text;
  } catch (err) {
    throw new CachetailError('CONFIG_READ', `cannot read ${what} ${path}: ${errorMessage(err)}`);
  }
}

function tlsOptions(ssl: KafkaConnectionConfig['ssl']): ConnectionOptions | undefined {
  if (!ssl?.enabled) return undefined;
  return {
    rejectUnauthorized: ssl.rejectUnauthorized,
    ...(ssl.caFile ? { ca: [readSecret(ssl.caFile, 'kafka.ssl.caFile', false)] } : {}),
    ...(ssl.certFile ? { cert: readSecret(ssl.certFile, 'kafka.ssl.certFile', false) } : {}),
    ...(ssl.keyFile ? { key: readSecret(ssl.keyFile, 'kafka.ssl.keyFile', false) } : {}),
  };
}

function saslOptions(sasl: KafkaConnectionConfig['sasl']): SASLOptions | undefined {
  if (!sasl) return undefined;
  const password = sasl.passwordFile
    ? readSecret(sasl.passwordFile, 'kafka.sasl.passwordFile', true)
    : sasl.password;
  return { mechanism: sasl.mechanism, username: sasl.username, password };
}

/** kafkajs config from ours; exported for tests (it holds secrets: never log the result). */
export function kafkajsConfig(config: KafkaConnectionConfig, log: Logger): KafkajsConfig {
  if (config.brokers.length === 0) {
    throw new CachetailError('CONFIG_INVALID', 'kafka.brokers is empty');
  }
  const kafkaLog = log.child({ module: 'kafkajs' });
  const ssl = tlsOptions(config.ssl);
  const sasl = saslOptions(config.sasl);
  return {
    brokers: [...config.brokers],
    clientId: config.clientId,
    connectionTimeout: config.connectTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    ...(ssl ? { ssl } : {}),
    ...(sasl ? { sasl } : {}),
    logLevel: kafkaLog.isLevelEnabled('debug') ? logLevel.INFO : logLevel.NOTHING,
    logCreator: () => (entry: LogEntry) => {
      const { message, ...extra } = entry.log;
      // kafkajs warns when an idempotent producer's retries are bounded; ours are, on purpose: the
      // sink retries the whole batch with the same sequence numbers, which keeps the idempotence.
      if (message.startsWith('Limiting retries for the idempotent producer')) return;
      kafkaLog.debug({ namespace: entry.namespace, level: entry.label, ...extra }, message);
    },
  };
}

export function createKafkaClient(config: KafkaConnectionConfig, log: Logger): Kafka {
  return new Kafka(kafkajsConfig(config, log));
}

/** Short, secret-free description of a kafkajs error for logs and /status, with the nested causes. */
export function kafkaErrorMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const e = err as Error & { type?: unknown; errors?: unknown; topic?: unknown; originalError?: unknown };
  let text = typeof e.topic === 'string' ? `${e.topic}: ${e.message}` : e.message;
  if (typeof e.type === 'string' && !text.includes(e.type)) text += ` (${e.type})`;
  // An aggregate (e.g. "Topic creation errors") says nothing until its parts are named.
  if (Array.isArray(e.errors) && e.errors.length > 0) {
    text += `: ${e.errors.map((x) => kafkaErrorMessage(x)).join('; ')}`;
  }
  const cause = e.originalError ?? e.cause;
  if (cause instanceof Error) {
    const inner = kafkaErrorMessage(cause);
    if (!text.includes(inner)) text += `: ${inner}`;
  }
  return text;
}

/** KAFKA_UNAVAILABLE when no broker could be reached (retry later), else KAFKA_REFUSED (act on it). */
export function kafkaErrorCode(err: unknown): Extract<ErrorCode, 'KAFKA_UNAVAILABLE' | 'KAFKA_REFUSED'> {
  const names: string[] = [];
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; depth++) {
    names.push(e.name);
    const x = e as { originalError?: unknown; cause?: unknown };
    e = x.originalError ?? x.cause;
  }
  return names.some((n) => /Connection|BrokerNotFound|NoBrokerAvailable|RequestTimeout/.test(n)) ||
    /ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND/.test(kafkaErrorMessage(err))
    ? 'KAFKA_UNAVAILABLE'
    : 'KAFKA_REFUSED';
}

/** A log line's `err` and `code` for an error from Kafka (or our own, which keeps its code). */
export function kafkaErrorFields(err: unknown): { err: string; code: ErrorCode } {
  return {
    err: kafkaErrorMessage(err),
    code: err instanceof CachetailError ? err.code : kafkaErrorCode(err),
  };
}
