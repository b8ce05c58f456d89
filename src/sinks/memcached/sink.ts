/**
 * Deletes (or, in hold-off mode, tombstones) keys in one region's memcached tier.
 *
 * A batch's keys are de-duplicated, routed exactly as the app's client routes them (routing.ts), and
 * each server's share is sent as pipelined groups of quiet requests on one connection per server, all
 * servers in parallel (connection.ts, protocol.ts). Each server is a lane with its own failure handling
 * (lane.ts): retries with backoff, then a durable per-server journal while it is down, replayed — or
 * the server flushed — before it is used again, also across restarts (journal.ts).
 *
 * Guarantee: `deliver` resolves only when every valid key of the batch was acknowledged by each server
 * it maps to (deleted / not found / tombstone stored), or was fsynced into that server's journal, or is
 * covered by a durably recorded flush of that server. So the tailer's checkpoint never passes an
 * invalidation that exists nowhere but in memory. Keys memcached cannot hold (empty, over 250 bytes) are
 * counted and logged, never sent: no server can have a value under them. Without a journal directory a
 * failing server is retried inside `deliver` (`retries` attempts, then the tailer stops).
 */
import { CachetailError, errorMessage } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { InvalidationBatch, Sink } from '../sink.js';
import type { MemcachedSinkConfig } from './config.js';
import { MemcachedConnection, type ConnectionOptions, type ServerConnection } from './connection.js';
import { Journal, listJournals } from './journal.js';
import { ServerLane, type Backoff, type LaneState, type RecoveryPolicy } from './lane.js';
import { keyBytesOk } from './protocol.js';
import {
  createRouter,
  groupByServer,
  parseServer,
  type HashingMode,
  type Router,
  type ServerAddress,
} from './routing.js';
import { emptyStats, type MemcachedSinkStats } from './stats.js';
import { TOMBSTONE_FLAGS, TOMBSTONE_VALUE } from './tombstone.js';

export type { MemcachedSinkStats } from './stats.js';

export interface MemcachedSinkOptions {
  servers: readonly string[];
  timeoutMs: number;
  log: Logger;
  /** Without `journalDir`: attempts per delivery before `deliver` rejects (default 1,000,000). */
  retries?: number;
  /** Backoff between attempts while a server is considered up. */
  backoff?: Backoff;
  hashing?: HashingMode;
  weights?: readonly number[];
  connectTimeoutMs?: number;
  attemptsBeforeDown?: number;
  probeBackoff?: Backoff;
  onServerRecovery?: RecoveryPolicy;
  /** Hold-off mode: tombstones with this TTL instead of deletes. */
  holdOff?: { ttlSeconds: number } | null;
  /** Where down servers' journals live (`<stateDir>/memcached-journal`). Unset: no journal. */
  journalDir?: string;
  maxJournalBytesPerServer?: number;
  replayChunkBytes?: number;
  groupKeys?: number;
  /** Failed delete attempts per server (they are retried), for metrics. */
  onDeleteErrors?: (server: string, count: number) => void;
  /** Groups written ahead per server before waiting for the oldest's acknowledgement. */
  groupsInFlight?: number;
  /** Tests substitute recording fakes here. */
  connect?: (server: ServerAddress, opts: ConnectionOptions) => ServerConnection;
}

export interface MemcachedServerStatus {
  address: string;
  state: LaneState;
  /** Bytes and key records in the server's journal (0 when it is up). */
  journalBytes: number;
  journalKeys: number;
}

/** Sink options from the validated config section (config.ts). */
export function memcachedSinkOptions(
  config: MemcachedSinkConfig,
  ctx: { log: Logger; journalDir?: string },
): MemcachedSinkOptions {
  return {
    servers: config.servers,
    hashing: config.hashing,
    weights: config.weights,
    timeoutMs: config.timeoutMs,
    connectTimeoutMs: config.connectTimeoutMs,
    attemptsBeforeDown: config.attemptsBeforeDown,
    retries: config.retries,
    backoff: config.retryBackoff,
    probeBackoff: config.probeBackoff,
    onServerRecovery: config.onServerRecovery,
    holdOff: config.holdOff.enabled ? { ttlSeconds: config.holdOff.ttlSeconds } : null,
    maxJournalBytesPerServer: config.journal.maxBytesPerServer,
    replayChunkBytes: config.journal.replayChunkBytes,
    groupKeys: config.groupKeys,
    groupsInFlight: config.groupsInFlight,
    journalDir: ctx.journalDir,
    log: ctx.log,
  };
}

export class MemcachedSink implements Sink {
  readonly name = 'memcached';
  readonly stats: MemcachedSinkStats = emptyStats();
  private readonly servers: ServerAddress[];
  private readonly router: Router;
  private readonly connections: ServerConnection[];
  private lanes: ServerLane[] = [];
  private ready: Promise<void> | null = null;
  private readonly log: Logger;

  constructor(private readonly opts: MemcachedSinkOptions) {
    this.log = opts.log;
    this.servers = opts.servers.map(parseServer);
    this.router = createRouter(opts.hashing ?? 'memjs', this.servers, opts.weights);
    const connOpts = { timeoutMs: opts.timeoutMs, connectTimeoutMs: opts.connectTimeoutMs ?? opts.timeoutMs };
    const connect =
      opts.connect ?? ((s: ServerAddress, o: ConnectionOptions) => new MemcachedConnection(s, o));
    this.connections = this.servers.map((s) => connect(s, connOpts));
    if (!opts.journalDir) {
      this.log.warn('memcached sink without a journal directory: a down server holds up all deliveries');
    }
  }

  /** Opens the journals and starts recovering servers that have journaled work; `deliver` awaits it. */
  start(): Promise<void> {
    this.ready ??= this.open().catch((err: unknown) => {
      this.ready = null;
      throw err;
    });
    return this.ready;
  }

  async deliver(batch: InvalidationBatch, signal: AbortSignal): Promise<void> {
    await this.start();
    await this.deliverKeys(batch.keys, signal);
  }

  /**
   * Empties every server of the tier (the tailer's `flush` gap policy). The flush is recorded in each
   * server's journal first, so it happens before the server is used again even across a crash; this
   * waits up to `waitMs` for the flushes themselves (a down server is flushed when it returns).
   */
  async flush(signal: AbortSignal, waitMs = 10_000): Promise<void> {
    await this.start();
    if (this.lanes.some((lane) => !lane.journal)) {
      throw new CachetailError('MEMCACHED_FLUSH_UNAVAILABLE', 'flushing the tier needs a journal directory');
    }
    await Promise.all(this.lanes.map((lane) => lane.requireFlush()));
    const deadline = Date.now() + waitMs;
    while (this.lanes.some((lane) => lane.state !== 'up') && Date.now() < deadline && !signal.aborted) {
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Per-server state for /status. */
  serverStatus(): MemcachedServerStatus[] {
    return this.lanes.map((lane) => ({
      address: lane.address,
      state: lane.state,
      journalBytes: lane.journal?.size ?? 0,
      journalKeys: lane.journal?.keys ?? 0,
    }));
  }

  async close(): Promise<void> {
    for (const lane of this.lanes) lane.close();
    for (const conn of this.connections) conn.close();
    await Promise.all(this.lanes.flatMap((lane) => (lane.journal ? [lane.journal.close()] : [])));
  }

  private async deliverKeys(keys: readonly string[], signal: AbortSignal): Promise<void> {
    const valid: string[] = [];
    let rejected: string[] | undefined;
    for (const key of keys) {
      if (keyBytesOk(key)) valid.push(key);
      else (rejected ??= []).push(key);
    }
    if (rejected) {
      this.stats.rejected += rejected.length;
      this.log.warn(
        { count: rejected.length, sample: rejected.slice(0, 3).map((k) => k.slice(0, 80)) },
        'keys memcached cannot store (empty or over 250 bytes): not sent',
      );
    }
    const perServer = groupByServer(valid, this.router, this.lanes.length);
    await Promise.all(perServer.map((k, i) => this.lanes[i].deliver(k, signal)));
  }

  private async open(): Promise<void> {
    const o = this.opts;
    const dir = o.journalDir;
    const journals: (Journal | null)[] = dir
      ? await Promise.all(this.servers.map((s) => Journal.open(dir, s.address))).catch((err: unknown) => {
          throw new CachetailError(
            'MEMCACHED_JOURNAL_UNUSABLE',
            `memcached journal directory ${dir}: ${errorMessage(err)} — it must be a writable directory`,
            { cause: err },
          );
        })
      : this.servers.map(() => null);
    this.lanes = this.servers.map(
      (s, i) =>
        new ServerLane(
          this.connections[i],
          journals[i] ?? null,
          {
            attemptsBeforeDown: o.attemptsBeforeDown ?? 3,
            retriesWithoutJournal: Math.max(1, o.retries ?? 1_000_000),
            backoff: o.backoff ?? { initialMs: 50, maxMs: 1_000 },
            probe: o.probeBackoff ?? { initialMs: 250, maxMs: 5_000 },
            groupKeys: o.groupKeys ?? 1_024,
            groupsInFlight: o.groupsInFlight ?? 16,
            onRecovery: o.onServerRecovery ?? 'replay',
            holdOff: o.holdOff
              ? { ttlSeconds: o.holdOff.ttlSeconds, value: TOMBSTONE_VALUE, flags: TOMBSTONE_FLAGS }
              : null,
            maxJournalBytes: o.maxJournalBytesPerServer ?? 256 * 1024 * 1024,
            replayChunkBytes: o.replayChunkBytes ?? 1024 * 1024,
            onErrors: o.onDeleteErrors,
          },
          this.stats,
          this.log.child({ server: s.address }),
        ),
    );
    if (!dir) return;
    for (const lane of this.lanes) {
      if (lane.journal && lane.journal.size > 0) {
        this.log.warn(
          { server: lane.address, keys: lane.journal.keys, flush: lane.journal.flushRequired },
          'journal from a previous run: server recovers before reuse',
        );
        lane.startRecovery();
      }
    }
    await this.adoptOrphans(dir);
  }

  /**
   * Journals of servers no longer configured: their keys are re-routed to the current servers (the app's
   * client has remapped them too); a `!flush` in one means unknown keys were dropped, so every current
   * server is flushed before use. When unsure, invalidate more.
   */
  private async adoptOrphans(dir: string): Promise<void> {
    const configured = new Set(this.servers.map((s) => s.address));
    const never = new AbortController().signal;
    for (const address of (await listJournals(dir)).filter((a) => !configured.has(a))) {
      const orphan = await Journal.open(dir, address);
      this.log.warn(
        { server: address, keys: orphan.keys },
        'journal of a server no longer configured: re-routing it',
      );
      let flush = false;
      for (let offset = 0; offset < orphan.size;) {
        const chunk = await orphan.read(offset, this.opts.replayChunkBytes ?? 1024 * 1024);
        if (chunk.next === offset) break;
        flush ||= chunk.flush;
        await this.deliverKeys(chunk.keys, never);
        offset = chunk.next;
      }
      if (flush) await Promise.all(this.lanes.map((lane) => lane.requireFlush()));
      await orphan.reset();
    }
  }
}
