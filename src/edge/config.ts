/**
 * Loading the edge's config: the schema (src/config/edge.ts) from file and env, plus the cookie signing
 * keys from cookie.keysFile, checked here so a bad key stops the start with a message naming it by id.
 */
import { readFileSync } from 'node:fs';
import { edgeConfigSchema, edgeEnvPaths, type EdgeConfig } from '../config/edge.js';
import { loadConfig } from '../config/load.js';
import { CachetailError, errorMessage } from '../errors.js';
import { KeyRing, keyFileEntries } from './keys.js';

/**
 * Loads, validates and freezes the edge config; appends cookie.keysFile's entries to cookie.keys and
 * checks the keys (KeyRing.parse), so a bad key stops the start with a message naming it by id.
 */
export function loadEdgeConfig(file: string | undefined, env: NodeJS.ProcessEnv): EdgeConfig {
  const config = loadConfig({ schema: edgeConfigSchema, envPaths: edgeEnvPaths, file, env });
  let keys = config.cookie.keys;
  if (config.cookie.keysFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(config.cookie.keysFile, 'utf8');
    } catch (err) {
      throw new CachetailError(
        'CONFIG_READ',
        `cannot read cookie.keysFile ${config.cookie.keysFile}: ${errorMessage(err)}`,
      );
    }
    keys = [...keys, ...keyFileEntries(text)];
    Object.freeze(keys);
  }
  KeyRing.parse(keys, config.cookie.keysFile === undefined ? 'cookie.keys' : 'cookie.keys + cookie.keysFile');
  if (keys === config.cookie.keys) return config;
  return Object.freeze({ ...config, cookie: Object.freeze({ ...config.cookie, keys }) });
}
