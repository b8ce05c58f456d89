/**
 * One memcached server's share of the deliveries, and what happens when that server fails.
 *
 *   up ──(attemptsBeforeDown failed attempts)──▶ down ──(probe answers)──▶ recovering ──(journal drained)──▶ up
 *                                                  ▲                           │
 *                                                  └────(send fails)───────────┘
 *
 * - up: keys go to the server, pipelined in groups; a failure is retried with backoff, up to
 *   `attemptsBeforeDown` attempts in all, within the same `deliver`.
 * - down / recovering: `deliver` appends the keys to this server's journal and resolves once they are on
 *   disk, so one dead server does not hold up the others. While down, if the recovery policy is `flush`
 *   (or the journal reached its size bound) a durable `!flush` record replaces the keys: the flush on
 *   recovery covers them.
 * - recovering (a probe NOOP was answered): flush the server first when the policy says so or the journal
 *   holds a `!flush`, then replay the journal from that point in chunks; only when the replay reached the
 *   end of the journal with no append in progress does the lane go up and delete the file.
 * Without a journal (no state dir configured) a failing server is retried inside `deliver` until it
 * answers or `retriesWithoutJournal` attempts failed: nothing is lost, but the other servers wait.
 */
import { CachetailError, errorFields, errorMessage } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { GroupResult, ServerConnection } from './connection.js';
import type { Journal } from './journal.js';
import { Status, type GroupRequest } from './protocol.js';
import type { MemcachedSinkStats } from './stats.js';

export type LaneState = 'up' | 'down' | 'recovering';
export type RecoveryPolicy = 'replay' | 'flush';

export interface Backoff {
  initialMs: number;
  maxMs: number;
}

export interface LaneOptions {
  attemptsBeforeDown: number;
  retriesWithoutJournal: number;
  backoff: Backoff;
  probe: Backoff;
  groupKeys: number;
  groupsInFlight: number;
  onRecovery: RecoveryPolicy;
  holdOff: { ttlSeconds: number; value: Buffer; flags: number } | null;
  maxJournalBytes: number;
  replayChunkBytes: number;
  /** Failed delete attempts on this server (for the per-server error metric). */
  onErrors?: (server: string, count: number) => void;
}

interface SendOutcome {
  failed: string[];
  error: unknown;
}

export class ServerLane {
  state: LaneState = 'up';
  private replayOffset = 0;
  private probing = false;
  private markerWrite: Promise<void> | null = null;
  private readonly closing = new AbortController();

  constructor(
    readonly conn: ServerConnection,
    readonly journal: Journal | null,
    private readonly opts: LaneOptions,
    private readonly stats: MemcachedSinkStats,
    /** Carries `server` (the sink's child logger): lines here do not repeat it. */
    private readonly log: Logger,
  ) {}

  get address(): string {
    return this.conn.address;
  }

  /** Resolves when every key is acknowledged by the server or durably journaled for it. */
  async deliver(keys: readonly string[], signal: AbortSignal): Promise<void> {
    if (keys.length === 0) return;
    if (this.state !== 'up') return this.journalKeys(keys, signal);
    let pending = keys;
    for (let attempt = 1; ; attempt++) {
      const { failed, error } = await this.sendAll(pending, this.opts.holdOff ? 'tombstone' : 'delete');
      if (failed.length === 0) return;
      this.stats.errors += failed.length;
      this.opts.onErrors?.(this.address, failed.length);
      if (isTimeout(error)) this.stats.timeouts++;
      if (this.state !== 'up') return this.journalKeys(failed, signal);
      if (this.journal && attempt >= this.opts.attemptsBeforeDown) {
        this.markDown(error);
        return this.journalKeys(failed, signal);
      }
      if (!this.journal && attempt >= this.opts.retriesWithoutJournal) {
        throw new CachetailError(
          'MEMCACHED_UNAVAILABLE',
          `memcached ${this.address}: ${failed.length} deletes failed after ${attempt} attempts: ${errorMessage(error)}`,
          { cause: error },
        );
      }
      const delay = backoffDelay(this.opts.backoff, attempt);
      this.log.warn(
        { failed: failed.length, attempt, retryInMs: delay, ...errorFields(error) },
        'memcached deletes failed; retrying',
      );
      await sleep(delay, signal);
      this.stats.retries += failed.length;
      pending = failed;
    }
  }

  /** The lane starts down because its journal holds work from before (a restart, an orphan's flush). */
  startRecovery(): void {
    if (this.state === 'up') this.state = 'down';
    this.startProbing(0);
  }

  /** Marks the server as needing a flush before use (durably) and takes it out of service until then. */
  async requireFlush(): Promise<void> {
    if (!this.journal) {
      throw new CachetailError(
        'MEMCACHED_FLUSH_UNAVAILABLE',
        `memcached ${this.address}: flushing needs a journal`,
      );
    }
    await this.journal.appendFlushMarker();
    this.state = 'down';
    this.startProbing(0);
  }

  close(): void {
    this.closing.abort(new CachetailError('SINK_CLOSED', 'memcached sink closed'));
    this.conn.close();
  }

  private markDown(error: unknown): void {
    if (this.state === 'down') return;
    this.state = 'down';
    this.stats.serversDown++;
    this.log.warn(errorFields(error), 'memcached server down: journaling its deletes until it answers again');
    this.startProbing(1);
  }

  private async journalKeys(keys: readonly string[], signal: AbortSignal): Promise<void> {
    const journal = this.journal;
    // Only a lane with a journal ever leaves `up` (markDown, startRecovery and requireFlush need one).
    if (!journal) {
      throw new CachetailError(
        'INTERNAL',
        `memcached ${this.address}: lane is ${this.state} without a journal`,
      );
    }
    for (let attempt = 1; ; attempt++) {
      try {
        if (
          this.state === 'down' &&
          (this.opts.onRecovery === 'flush' ||
            journal.flushRequired ||
            journal.size >= this.opts.maxJournalBytes)
        ) {
          if (!journal.flushRequired) {
            this.markerWrite ??= journal.appendFlushMarker().finally(() => (this.markerWrite = null));
            await this.markerWrite;
          }
          this.stats.coveredByFlush += keys.length;
          return;
        }
        await journal.append(keys);
        this.stats.journaled += keys.length;
        return;
      } catch (err) {
        // Neither the server nor the disk took the keys: wait and try again; the tailer's checkpoint
        // does not move meanwhile, which is what an operator needs (and is told).
        this.stats.journalErrors++;
        const delay = backoffDelay(this.opts.backoff, attempt);
        this.log.error(
          { path: journal.path, ...errorFields(err), retryInMs: delay },
          'cannot journal deletes for a down memcached server; holding the checkpoint',
        );
        await sleep(delay, signal);
        if (this.state === 'up') return this.deliver(keys, signal);
      }
    }
  }

  /** Sends `keys` in pipelined groups; returns the keys not acknowledged and the last error. */
  private async sendAll(keys: readonly string[], kind: 'delete' | 'tombstone'): Promise<SendOutcome> {
    const groups: string[][] = [];
    for (let i = 0; i < keys.length; i += this.opts.groupKeys)
      groups.push(keys.slice(i, i + this.opts.groupKeys));
    // At most `groupsInFlight` groups written ahead: deep enough to keep the server busy, bounded so a
    // million-key batch is not encoded into one burst of socket buffers.
    const results = new Array<PromiseSettledResult<GroupResult>>(groups.length);
    // Once the connection failed, the groups not yet sent fail with it rather than each waiting out its
    // own timeout on a hung server.
    let nextGroup = 0;
    let broken: { status: 'rejected'; reason: unknown } | undefined;
    const window = async () => {
      while (nextGroup < groups.length) {
        const gi = nextGroup++;
        results[gi] =
          broken ??
          (await this.conn.send(this.request(kind, groups[gi])).then(
            (value) => ({ status: 'fulfilled', value }) as const,
            (reason: unknown) => (broken = { status: 'rejected', reason } as const),
          ));
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.groupsInFlight, groups.length) }, window));
    const failed: string[] = [];
    const fallback: string[] = [];
    let error: unknown;
    results.forEach((r, gi) => {
      const group = groups[gi];
      if (r.status === 'rejected') {
        failed.push(...group);
        error = r.reason;
        return;
      }
      let notFound = 0;
      for (const [index, status] of r.value.failures) {
        const key = group[index];
        if (kind === 'delete' && status === Status.NotFound) notFound++;
        else if (kind === 'tombstone') fallback.push(key);
        else {
          failed.push(key);
          error = new CachetailError(
            'MEMCACHED_ERROR_STATUS',
            `memcached ${this.address}: status 0x${status.toString(16)} for a delete`,
          );
        }
      }
      const done = group.length - r.value.failures.size;
      if (kind === 'delete') {
        this.stats.deleted += done;
        this.stats.notFound += notFound;
      } else {
        this.stats.tombstoned += done;
      }
    });
    if (fallback.length > 0) {
      // The server refused to store the tombstone (out of memory, ...): a plain delete still removes the
      // old value, which is what matters most; only the hold-off is lost for these keys.
      this.stats.tombstoneFallbacks += fallback.length;
      this.log.warn({ keys: fallback.length }, 'tombstone refused; deleting instead');
      const again = await this.sendAll(fallback, 'delete');
      failed.push(...again.failed);
      error ??= again.error;
    }
    return { failed, error };
  }

  private request(kind: 'delete' | 'tombstone', keys: readonly string[]): GroupRequest {
    const h = this.opts.holdOff;
    return kind === 'tombstone' && h
      ? { kind, keys, value: h.value, flags: h.flags, ttlSeconds: h.ttlSeconds }
      : { kind: 'delete', keys };
  }

  private startProbing(firstAttempt: number): void {
    if (this.probing) return;
    this.probing = true;
    void this.probeLoop(firstAttempt).finally(() => (this.probing = false));
  }

  private async probeLoop(firstAttempt: number): Promise<void> {
    const signal = this.closing.signal;
    for (let attempt = firstAttempt; this.state !== 'up' && !signal.aborted; attempt++) {
      try {
        if (attempt > 0) await sleep(backoffDelay(this.opts.probe, attempt), signal);
        await this.conn.send({ kind: 'noop' });
      } catch {
        continue;
      }
      if (await this.recover()) return;
    }
  }

  /** Flush if required, replay the journal, go up. False (and down again) when the server fails. */
  private async recover(): Promise<boolean> {
    const journal = this.journal as Journal;
    this.state = 'recovering';
    let offset = this.replayOffset;
    try {
      if (this.opts.onRecovery === 'flush' || journal.flushRequired) {
        // Everything journaled so far is covered by the flush; what arrives from now on is replayed.
        offset = journal.size;
        await this.flush('before reuse');
      }
      for (;;) {
        if (offset >= journal.size) {
          if (journal.pendingAppends === 0) break;
          await sleep(5, this.closing.signal);
          continue;
        }
        const chunk = await journal.read(offset, this.opts.replayChunkBytes);
        if (chunk.corrupt > 0) {
          this.log.error({ lines: chunk.corrupt }, 'unreadable journal lines: flushing');
        }
        if (chunk.flush) await this.flush('journal asks for it');
        const unique = [...new Set(chunk.keys)];
        const { failed, error } = await this.sendAll(unique, this.opts.holdOff ? 'tombstone' : 'delete');
        if (failed.length > 0) throw error;
        this.stats.replayed += unique.length;
        offset = chunk.next;
        this.replayOffset = offset;
      }
    } catch (err) {
      this.state = 'down';
      this.log.warn(errorFields(err), 'memcached recovery failed; still down');
      return false;
    }
    // Synchronously with the check above: no append can be in progress, and any later one sees `up`.
    this.state = 'up';
    this.replayOffset = 0;
    this.stats.serversRecovered++;
    this.log.info({ replayedTo: offset }, 'memcached server back in service');
    await journal.reset().catch((err: unknown) => {
      this.log.error(errorFields(err), 'could not remove replayed journal');
    });
    return true;
  }

  private async flush(why: string): Promise<void> {
    const result = await this.conn.send({ kind: 'flush' });
    if (result.failures.size > 0)
      throw new CachetailError(
        'MEMCACHED_ERROR_STATUS',
        `flush_all refused: status ${[...result.failures.values()].join()}`,
      );
    this.stats.flushes++;
    this.log.warn({ why }, 'memcached server flushed');
  }
}

function isTimeout(err: unknown): boolean {
  return err instanceof CachetailError && err.code === 'MEMCACHED_TIMEOUT';
}

export function backoffDelay(b: Backoff, attempt: number): number {
  const base = Math.min(b.maxMs, b.initialMs * 2 ** Math.min(Math.max(attempt - 1, 0), 20));
  return Math.round(base * (0.5 + Math.random() / 2));
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
