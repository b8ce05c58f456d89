import { readFileSync } from 'node:fs';
import { CachetailError, errorMessage } from '../errors.js';
import { kafkaEnvPaths } from '../sinks/kafka/config.js';
import { loadConfig } from './load.js';
import { tailerConfigSchema, type TailerConfig } from './schema.js';

export const tailerEnvPaths = [
  [['region'], 'string'],
  [['source', 'host'], 'string'],
  [['source', 'port'], 'number'],
  [['source', 'user'], 'string'],
  [['source', 'password'], 'string'],
  [['source', 'passwordFile'], 'string'],
  [['source', 'serverId'], 'number'],
  [['source', 'heartbeatMs'], 'number'],
  [['source', 'livenessTimeoutMs'], 'number'],
  [['source', 'connectTimeoutMs'], 'number'],
  [['source', 'ssl', 'enabled'], 'string'],
  [['source', 'ssl', 'caFile'], 'string'],
  [['source', 'ssl', 'certFile'], 'string'],
  [['source', 'ssl', 'keyFile'], 'string'],
  [['source', 'ssl', 'rejectUnauthorized'], 'string'],
  [['source', 'ssl', 'verifyIdentity'], 'string'],
  [['stateDir'], 'string'],
  [['gapPolicy'], 'string'],
  [['outbox', 'tables'], 'list'],
  [['memcached', 'servers'], 'list'],
  [['memcached', 'hashing'], 'string'],
  [['status', 'host'], 'string'],
  [['status', 'port'], 'number'],
  [['status', 'maxLagSeconds'], 'number'],
  [['log', 'level'], 'string'],
  [['consistency', 'enabled'], 'string'],
  [['consistency', 'every'], 'number'],
  [['consistency', 'truth', 'password'], 'string'],
  [['consistency', 'truth', 'passwordFile'], 'string'],
  ...kafkaEnvPaths(),
] as const;

/** Loads, validates and freezes the tailer config; resolves source.passwordFile into source.password. */
export function loadTailerConfig(file: string | undefined, env: NodeJS.ProcessEnv): TailerConfig {
  const config = loadConfig({ schema: tailerConfigSchema, envPaths: tailerEnvPaths, file, env });
  if (config.source.passwordFile === undefined) return config;
  let password: string;
  try {
    password = readFileSync(config.source.passwordFile, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new CachetailError(
      'CONFIG_READ',
      `cannot read source.passwordFile ${config.source.passwordFile}: ${errorMessage(err)}`,
    );
  }
  return Object.freeze({ ...config, source: Object.freeze({ ...config.source, password }) });
}
