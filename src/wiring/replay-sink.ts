/**
 * The memcached sink of `cachetail replay`: the tailer's sink built from the same config section, so a
 * replayed key is hashed, batched and journaled exactly as the tailer would. Its journal lives in a
 * directory of its own (default `<stateDir>/memcached-journal-replay`): a tailer running on the same
 * host owns `memcached-journal`, and the two must never append to one file. Keys journaled for a down
 * server are delivered by the next replay (the sink replays its journal before anything new).
 */
import { join } from 'node:path';
import type { TailerConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import { MemcachedSink, memcachedSinkOptions } from '../sinks/memcached/sink.js';

export const REPLAY_JOURNAL_DIR = 'memcached-journal-replay';

export function createReplaySink(
  config: Pick<TailerConfig, 'memcached' | 'stateDir'>,
  log: Logger,
  journalDir: string = join(config.stateDir, REPLAY_JOURNAL_DIR),
): MemcachedSink {
  return new MemcachedSink(
    memcachedSinkOptions(config.memcached, { log: log.child({ module: 'sink.memcached' }), journalDir }),
  );
}
