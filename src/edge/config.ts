/**
 * Loading the edge's config: the schema (src/config/edge.ts) from file and env, plus the cookie signing
 * keys from cookie.keysFile, checked here so a bad key stops the start with a message naming it by id.
 * Every problem — fields and keys — is named in one message, so one start shows all there is to fix.
 */
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { edgeConfigSchema, edgeCookieSchema, edgeEnvPaths, type EdgeConfig } from '../config/edge.js';
import { configInvalid, deepFreeze, readConfigInput, validateConfig } from '../config/load.js';
import { CachetailError, errorMessage } from '../errors.js';
import { keyFileEntries, keyProblems } from './keys.js';

function readKeysFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new CachetailError('CONFIG_READ', `cannot read cookie.keysFile ${path}: ${errorMessage(err)}`);
  }
}

/** cookie.keys followed by cookie.keysFile's entries, and what is wrong with them (never a secret). */
function cookieKeys(cookie: z.output<typeof edgeCookieSchema>): { entries: string[]; problems: string[] } {
  if (cookie.keysFile === undefined && cookie.keys.length === 0) {
    return {
      entries: [],
      problems: [
        'cookie.keys is required (set it in the config file or CACHETAIL_COOKIE_KEYS, or give cookie.keysFile)',
      ],
    };
  }
  const entries =
    cookie.keysFile === undefined
      ? [...cookie.keys]
      : [...cookie.keys, ...keyFileEntries(readKeysFile(cookie.keysFile))];
  const source = cookie.keysFile === undefined ? 'cookie.keys' : 'cookie.keys + cookie.keysFile';
  return { entries, problems: keyProblems(entries).map((p) => `${source}: ${p}`) };
}

/**
 * Loads, validates and freezes the edge config; appends cookie.keysFile's entries to cookie.keys and
 * checks the keys (as KeyRing.parse will), so a bad key stops the start with a message naming it by id.
 */
export function loadEdgeConfig(file: string | undefined, env: NodeJS.ProcessEnv): EdgeConfig {
  const input = readConfigInput(file, env, edgeEnvPaths);
  const validated = validateConfig(edgeConfigSchema, input, edgeEnvPaths);
  // The cookie section on its own, so that its keys are checked even when other sections are bad.
  const cookie = edgeCookieSchema.prefault({}).safeParse(input.raw.cookie);
  const keys = cookie.success ? cookieKeys(cookie.data) : undefined;
  if (!validated.ok || !keys || keys.problems.length > 0) {
    throw configInvalid([...(validated.ok ? [] : validated.problems), ...(keys?.problems ?? [])]);
  }
  const config = validated.config;
  return deepFreeze({ ...config, cookie: { ...config.cookie, keys: keys.entries } });
}
