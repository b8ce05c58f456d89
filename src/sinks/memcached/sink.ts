/**
 * Deletes keys from one region's memcached tier with memjs. Keys are routed to servers exactly as the
 * app's client routes them, then each server's deletes are sent together (memjs pipelines requests on
 * one connection). A failed delete is retried with capped exponential backoff until it succeeds or
 * the tailer stops: a delete is never dropped, so the checkpoint never passes an unacknowledged key.
 */
import memjs from 'memjs';
import { CachetailError, errorMessage } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { InvalidationBatch, Sink } from '../sink.js';
import { memjsSelector, type ServerSelector } from './hashing.js';

export interface MemcachedSinkOptions {
  servers: readonly string[];
  timeoutMs: number;
  retries: number;
  log: Logger;
  /** Backoff bounds for retries of a failing server. */
  backoff?: { initialMs: number; maxMs: number };
}

export interface MemcachedSinkStats {
  deleted: number;
  notFound: number;
  errors: number;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export class MemcachedSink implements Sink {
  readonly name = 'memcached';
  readonly stats: MemcachedSinkStats = { deleted: 0, notFound: 0, errors: 0 };
  private readonly clients: memjs.Client[];
  private readonly select: ServerSelector;

  constructor(private readonly opts: MemcachedSinkOptions) {
    const log = opts.log;
    this.clients = opts.servers.map((server) =>
      memjs.Client.create(server, {
        retries: 0,
        timeout: opts.timeoutMs / 1000,
        conntimeout: opts.timeoutMs / 1000,
        keepAlive: true,
        // memjs logs through console by default; route it to our logger.
        logger: { log: (...args: unknown[]) => log.debug({ memjs: args.map(String).join(' ') }, 'memjs') },
      }),
    );
    this.select = memjsSelector(this.clients.length);
  }

  async deliver(batch: InvalidationBatch, signal: AbortSignal): Promise<void> {
    const perServer: string[][] = this.clients.map(() => []);
    for (const key of batch.keys) perServer[this.select(key)]?.push(key);
    const work: Promise<void>[] = [];
    perServer.forEach((keys, i) => {
      if (keys.length > 0) work.push(this.deleteAll(i, keys, signal));
    });
    await Promise.all(work);
  }

  /** Deletes `keys` on server `i`, retrying the ones that failed until all are acknowledged. */
  private async deleteAll(i: number, keys: string[], signal: AbortSignal): Promise<void> {
    const client = this.clients[i];
    const backoff = this.opts.backoff ?? { initialMs: 50, maxMs: 5_000 };
    let pending = keys;
    for (let attempt = 0; ; attempt++) {
      const results = await Promise.allSettled(pending.map((key) => client.delete(key)));
      const failed: string[] = [];
      let lastError: unknown;
      results.forEach((r, j) => {
        if (r.status === 'fulfilled') {
          if (r.value) this.stats.deleted++;
          else this.stats.notFound++;
        } else {
          failed.push(pending[j]);
          lastError = r.reason;
        }
      });
      if (failed.length === 0) return;
      this.stats.errors += failed.length;
      if (attempt >= this.opts.retries) {
        throw new CachetailError(
          'MEMCACHED_UNAVAILABLE',
          `memcached ${this.opts.servers[i]}: ${failed.length} deletes failed after ${attempt + 1} attempts: ${errorMessage(lastError)}`,
          { retryable: true, cause: lastError },
        );
      }
      const delay = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt, 20));
      this.opts.log.warn(
        {
          server: this.opts.servers[i],
          failed: failed.length,
          attempt: attempt + 1,
          retryInMs: delay,
          err: errorMessage(lastError),
        },
        'memcached deletes failed; retrying',
      );
      await sleep(delay * (0.5 + Math.random() / 2), signal);
      pending = failed;
    }
  }

  close(): Promise<void> {
    for (const c of this.clients) c.close();
    return Promise.resolve();
  }
}
