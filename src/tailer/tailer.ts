/**
 * The tailer loop: read the local replica's binlog, assemble transactions, hand committed keys to the
 * sink in commit order, and track two positions (as Debezium does):
 *  - `readPosition`: just after the last transaction read in full — where a reconnect resumes, since
 *    a partly read transaction is dropped and read again;
 *  - `acknowledged`: just after the last transaction whose deletes the sink acknowledged, with every
 *    earlier one acknowledged too — the only position a checkpoint records.
 * Reading pauses while too many committed transactions wait for the sink (backpressure). A gap (the
 * position is gone, the server changed without a usable GTID, an undecodable event) is never passed
 * silently: the gap policy either fails closed or flushes the regional tier and starts at the end.
 */
import { BinlogDecoder, GtidState, type PreviousGtidsEvent } from '../binlog/index.js';
import { CachetailError, errorFields, errorMessage } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { ReplicationLag } from '../observability/metrics.js';
import type { ReplicationConnection, StartPosition } from '../replication/client.js';
import type { CommittedTransaction } from '../sinks/sink.js';
import type { ServerIdentity } from './checkpoint.js';
import { CheckpointWriter } from './checkpoint-writer.js';
import { DeliveryQueue } from './delivery.js';
import { checkGtidHistory } from './history.js';
import {
  currentEnd,
  readIdentity,
  resolveInitialStart,
  resumeFrom,
  sameServer,
  type ResolvedStart,
} from './resume.js';
import { isGap, reconnectError, reconnectReason, sleepUnlessAborted } from './reconnect.js';
import { TransactionAssembler } from './transactions.js';
import type { Position, TailerOptions, TailerState, TailerStats } from './types.js';

export type { GapPolicy, Position, TailerOptions, TailerState, TailerStats } from './types.js';

export class Tailer {
  private stateValue: TailerState = 'idle';
  lastError: CachetailError | undefined;
  /** True when the tailer stopped on a gap (fail-closed): the region's cache may be stale. */
  gap = false;
  /**
   * True when the tailer stopped because its setup was refused (preflight, login, TLS, checkpoint): the
   * same configuration and servers meet the same refusal, so it is not retried; an operator fixes the
   * setup and restarts the tailer.
   */
  refused = false;
  readonly stats: TailerStats = {
    events: 0,
    transactions: 0,
    keysDelivered: 0,
    batches: 0,
    reconnects: 0,
    gaps: 0,
    checkpointWrites: 0,
  };
  readPosition: Position | null = null;
  /**
   * Replication lag, the one definition /status, /metrics, the dashboard and the edge read: the age of
   * the last event read, 0 after a heartbeat (caught up) until the next event or a disconnect. Shared
   * with the metrics' gauge when there are metrics.
   */
  readonly lag: ReplicationLag;
  lastEventAt = 0;
  /** When the last event other than a heartbeat arrived: a stream of heartbeats only may be stalled. */
  private lastDataAt = 0;
  /**
   * The server the read and acknowledged positions belong to. A reconnect that reaches another server
   * changes it only once the position there is resolved: until then a file/position is not valid there.
   */
  identity: ServerIdentity | null = null;
  /** When the acknowledged position last moved (ms). */
  acknowledgedAt = 0;
  readonly startedAt = Date.now();
  checkpointWrittenAt: number | null = null;
  gapDetectedAt: number | null = null;

  private readonly log: Logger;
  private readonly queue: DeliveryQueue<Position>;
  private conn: ReplicationConnection | null = null;
  private streamEnded: ((err: Error | undefined) => void) | null = null;
  private runPromise: Promise<void> | null = null;
  private stopRequested = false;
  /** Aborted by stop(): cuts a reconnect delay short, so a stop never waits out a backoff. */
  private readonly stopping = new AbortController();
  private readonly checkpointWriter: CheckpointWriter | null;

  get state(): TailerState {
    return this.stateValue;
  }

  set state(s: TailerState) {
    this.stateValue = s;
    this.opts.metrics?.state.set(s);
  }

  get readingPaused(): boolean {
    return this.queue.paused;
  }

  constructor(private readonly opts: TailerOptions) {
    this.log = opts.log.child({ module: 'tailer' });
    this.lag = opts.metrics?.replicationLag ?? new ReplicationLag(Date.now);
    this.checkpointWriter = opts.checkpoints
      ? new CheckpointWriter(
          opts.checkpoints,
          () => ({ ack: this.acknowledged, identity: this.identity }),
          this.log,
          (at) => {
            this.stats.checkpointWrites++;
            this.checkpointWrittenAt = at;
            opts.metrics?.checkpoint.written(at);
          },
        )
      : null;
    const m = opts.metrics;
    const gate = opts.commitGate;
    this.queue = new DeliveryQueue({
      sink: opts.sink,
      maxBatchKeys: opts.maxBatchKeys,
      maxPending: opts.maxPendingTransactions,
      maxPendingKeys: opts.maxPendingKeys,
      log: this.log,
      pause: () => {
        m?.readingPaused.set(true);
        this.conn?.pause();
      },
      resume: () => {
        m?.readingPaused.set(false);
        this.conn?.resume();
      },
      onDelivered: (keys, transactions) => {
        this.stats.batches++;
        this.stats.keysDelivered += keys;
        this.acknowledgedAt = Date.now();
        m?.batchKeys.observe(keys);
        m?.acknowledged(transactions, this.acknowledgedAt);
        m?.pendingTransactions.set(this.queue.length);
        opts.onDelivered?.(keys, transactions);
      },
      onFailed: (err) => this.fail(err),
      beforeDeliver: gate ? (batch, signal) => gate.wait(batch.transactions, signal) : undefined,
    });
  }

  get acknowledged(): Position | null {
    return this.queue.acknowledged;
  }

  /** Read through a method so TypeScript does not narrow `state` across awaits. */
  private failed(): boolean {
    return this.state === 'failed';
  }

  get pendingTransactions(): number {
    return this.queue.length;
  }

  /**
   * Connects, resolves the start and begins streaming. Rejects on a refusal (preflight, login, config);
   * a non-retryable one marks the tailer failed and `refused`, since retrying it cannot help.
   */
  async start(): Promise<void> {
    try {
      await this.begin();
    } catch (err) {
      if (err instanceof CachetailError && !err.retryable && !this.failed()) {
        this.refused = true;
        this.fail(err);
      }
      throw err;
    }
  }

  private async begin(): Promise<void> {
    const checkpoint = (await this.opts.checkpoints?.load()) ?? null;
    if (checkpoint) {
      this.checkpointWrittenAt = checkpoint.writtenAt;
      this.opts.metrics?.checkpoint.loaded(checkpoint.writtenAt);
    }
    const { conn, identity } = await this.connect();
    this.identity = identity;
    let resolved: ResolvedStart;
    try {
      resolved = await resolveInitialStart(conn, identity, checkpoint, this.opts.start);
    } catch (err) {
      if (!isGap(err)) {
        conn.close();
        throw err;
      }
      resolved = await this.onGap(err as CachetailError, conn, identity).catch((e: unknown) => {
        conn.close();
        throw e;
      });
    }
    if (!checkpoint && resolved.why === 'current end of the binlog') {
      this.log.warn(
        { file: resolved.file, position: resolved.position },
        'no checkpoint: starting at the current end of the binlog',
      );
    }
    this.log.info(
      { from: resolved.why, start: resolved.start, gtid: resolved.gtid },
      'resolved start position',
    );
    this.setStart(resolved);
    // The watermark starts at the start position, acknowledged as of the checkpoint that recorded it (or
    // of now, for a start anywhere else); it moves with the first acknowledged delivery.
    this.acknowledgedAt =
      checkpoint && resolved.why.startsWith('checkpoint') ? checkpoint.writtenAt : Date.now();
    const first = await this.dump(conn, resolved.start).catch((err: unknown) => {
      conn.close();
      throw err;
    });
    this.checkpointWriter?.start(this.opts.checkpointIntervalMs ?? 250);
    this.runPromise = Promise.all([this.readLoop(first), this.queue.run()]).then(() => undefined);
  }

  /** Settles when the tailer has stopped (state 'stopped' or 'failed'). */
  get done(): Promise<void> {
    return this.runPromise ?? Promise.resolve();
  }

  /**
   * Graceful stop: stop reading, deliver what was already read (up to `drainMs`), write the
   * checkpoint. Deliveries still running after `drainMs` are abandoned — they are not checkpointed.
   */
  async stop(drainMs = 10_000): Promise<void> {
    if (this.stopRequested) return this.done;
    this.stopRequested = true;
    this.stopping.abort();
    this.conn?.close();
    this.streamEnded?.(undefined);
    await this.queue.drain(drainMs);
    this.opts.commitGate?.close();
    if (this.state !== 'failed') this.state = 'stopped';
    await this.checkpointWriter?.stop();
    await this.done.catch(() => undefined);
  }

  private setStart(r: ResolvedStart): void {
    const gtid = r.gtid === null ? null : GtidState.parse(r.gtid, this.identity?.flavor);
    this.readPosition = { file: r.file, nextPosition: r.position, gtid };
    this.queue.reset(this.readPosition);
  }

  private async connect(): Promise<{ conn: ReplicationConnection; identity: ServerIdentity }> {
    this.state = 'connecting';
    const { source } = this.opts;
    const conn = await this.opts.connect(source).catch((err: unknown) => {
      if (err instanceof CachetailError && !err.retryable) this.refused = true;
      throw err;
    });
    try {
      const identity = await readIdentity(conn, `${source.host}:${source.port}`);
      if (this.identity && !sameServer(this.identity, identity)) {
        this.log.warn({ before: this.identity, now: identity }, 'the replica behind the address changed');
      }
      await this.opts.preflight?.(conn);
      return { conn, identity };
    } catch (err) {
      conn.close();
      // A reconnect refused by the preflight is as final as one refused at start.
      if (err instanceof CachetailError && !err.retryable) this.refused = true;
      throw err;
    }
  }

  private async dump(
    conn: ReplicationConnection,
    start: StartPosition,
  ): Promise<{ ended: Promise<Error | undefined> }> {
    this.conn = conn;
    const decoder = new BinlogDecoder({ checksumBeforeFde: 'detect' });
    const assembler = new TransactionAssembler(this.opts.extract, {
      spill: this.opts.spill,
      outbox: this.opts.outbox,
    });
    assembler.reset(this.readPosition?.file ?? '');
    let endThisStream: (err: Error | undefined) => void = () => undefined;
    const ended = new Promise<Error | undefined>((resolve) => {
      endThisStream = resolve;
      this.streamEnded = resolve;
    });
    let liveness: NodeJS.Timeout | null = null;
    const timeout = this.opts.livenessTimeoutMs ?? 0;
    this.lastEventAt = Date.now();
    const onEvent = (bytes: Buffer): void => this.onEvent(bytes, decoder, assembler);
    this.lastDataAt = Date.now();
    const stall = this.watchStall((err) => endThisStream(err));
    // However the stream ends (server, network, liveness, stop()), the timers go with it.
    void ended.then(() => {
      if (liveness) clearInterval(liveness);
      if (stall) clearInterval(stall);
    });
    // This connection's end ends this stream only: a late error from an earlier connection must not end
    // the stream of a later one.
    await conn.startDump(this.opts.source, start, { onEvent, onEnd: (err) => endThisStream(err) });
    // A reconnect while the queue is over its limit must not read: backpressure holds across connections.
    if (this.queue.paused) conn.pause();
    if (timeout > 0) {
      liveness = setInterval(
        () => {
          // While we ourselves do not read (backpressure) no heartbeat can arrive: that is not a dead link.
          if (this.queue.paused) this.lastEventAt = Date.now();
          if (Date.now() - this.lastEventAt <= timeout) return;
          clearInterval(liveness as NodeJS.Timeout);
          this.streamEnded?.(
            new CachetailError('REPLICATION_DEAD', `no event or heartbeat for ${timeout} ms`),
          );
        },
        Math.max(50, Math.floor(timeout / 4)),
      );
    }
    this.state = 'streaming';
    this.log.info({ flavor: conn.flavor, serverVersion: conn.serverVersion, start }, 'binlog dump started');
    // Wrapped: an async function returning a bare promise would wait for it instead of handing it over.
    return { ended };
  }

  /**
   * Ends the stream when it sends nothing but heartbeats while the replica's binlog is ahead of what
   * was read, twice in a row `stallCheckMs` apart: a MariaDB dump thread left on a file that RESET
   * MASTER removed does exactly that, and the link looks alive and caught up while nothing is read.
   * The replica is probed on a connection of its own, only after `stallCheckMs` without a data event.
   */
  private watchStall(end: (err: CachetailError) => void): NodeJS.Timeout | null {
    const every = this.opts.stallCheckMs ?? 5_000;
    if (every <= 0) return null;
    let probing = false;
    let suspect: { since: number } | null = null;
    return setInterval(() => {
      const read = this.readPosition?.gtid;
      if (probing || this.queue.paused || !read || Date.now() - this.lastDataAt < every) {
        suspect = null;
        return;
      }
      probing = true;
      void this.replicaGtidEnd()
        .then((ahead) => {
          const behind = ahead !== null && !read.covers(ahead) && read === this.readPosition?.gtid;
          if (!behind) {
            suspect = null;
            return;
          }
          // Twice in a row with no data event in between: a transaction binlogged just before the
          // first probe may still be on its way.
          if (suspect === null || this.lastDataAt > suspect.since) {
            suspect = { since: Date.now() };
            return;
          }
          end(
            new CachetailError(
              'REPLICATION_STALLED',
              `the replica's binlog is at ${ahead.toString()} but the stream sent nothing past ${read.toString()} ` +
                `for ${Date.now() - this.lastDataAt} ms: resuming by GTID`,
            ),
          );
        })
        .catch(() => undefined)
        .finally(() => (probing = false));
    }, every);
  }

  /** The replica's binlog GTID state now (null when it cannot be read; the next round tries again). */
  private async replicaGtidEnd(): Promise<GtidState | null> {
    const conn = await this.opts.connect(this.opts.source);
    try {
      const { gtid } = await currentEnd(conn);
      return gtid === null ? null : GtidState.parse(gtid, this.identity?.flavor);
    } finally {
      conn.close();
    }
  }

  /** One event of the stream: counted, timed (lag), and fed to the transaction assembler. */
  private onEvent(bytes: Buffer, decoder: BinlogDecoder, assembler: TransactionAssembler): void {
    this.stats.events++;
    this.lastEventAt = Date.now();
    const end = bytes.length >= 17 ? bytes.readUInt32LE(13) : 0;
    // Artificial events (fake ROTATE, the FDE re-sent at dump start) have log_pos 0: no position.
    const ev = decoder.decode(bytes, end > 0 ? end - bytes.length : undefined);
    const m = this.opts.metrics;
    m?.binlogEvents.inc(ev.kind);
    if (ev.kind !== 'heartbeat') this.lastDataAt = this.lastEventAt;
    if (ev.kind === 'heartbeat') {
      this.lag.heartbeat();
    } else if (ev.header.timestamp > 0 && end > 0 && ev.kind !== 'format_description') {
      // Not the re-sent FDE or fake ROTATE: their timestamps are the file's creation time.
      this.lag.eventRead(ev.header.timestamp * 1000);
    }
    if (ev.kind === 'previous_gtids' && this.identity?.flavor === 'mysql') {
      this.previousGtids(ev);
      return;
    }
    if (ev.kind === 'transaction_payload') {
      // MySQL compressed transaction: inner events have no position; they belong to this event.
      for (const inner of decoder.payloadEvents(ev)) {
        const txn = assembler.push({
          ...inner,
          header: { ...inner.header, nextPosition: ev.header.nextPosition },
        });
        if (txn) this.committed(txn);
      }
      return;
    }
    const txn = assembler.push(ev);
    if (txn) this.committed(txn);
  }

  private committed(txn: CommittedTransaction): void {
    this.stats.transactions++;
    this.opts.metrics?.transactions.inc();
    if (txn.keys.length > 0) this.opts.metrics?.transactionsWithKeys.inc();
    const prev = this.readPosition;
    this.readPosition = { file: txn.file, nextPosition: txn.nextPosition, gtid: this.gtidAfter(prev, txn) };
    this.queue.push(txn, this.readPosition);
    if (this.queue.length === 0) this.acknowledgedAt = Date.now();
    this.opts.metrics?.pendingTransactions.set(this.queue.length);
  }

  /**
   * The GTID state after `txn`. A MariaDB position is complete with one GTID per domain, so it can
   * start from nothing. A MySQL set built from nothing would lack every transaction before the start
   * and, used to resume, make the server send them all again (or fail on purged ones): without a
   * complete base (gtid_executed, a checkpoint, a configured set, PREVIOUS_GTIDS) it stays null.
   */
  private gtidAfter(prev: Position | null, txn: CommittedTransaction): GtidState | null {
    if (txn.gtid === undefined) return prev?.gtid ?? null;
    if (prev?.gtid) return prev.gtid.add(txn.gtid);
    const flavor = this.identity?.flavor;
    return flavor === 'mysql' ? null : GtidState.empty(flavor).add(txn.gtid);
  }

  /**
   * MySQL PREVIOUS_GTIDS opens every binlog file: all transactions of the earlier files. The server
   * sends it only when the stream enters a file at its start, so we have read (or are resuming past)
   * everything before it: with it the set becomes complete. Union, not replace: a set we already hold
   * (resume by GTID) may be ahead of the file's start.
   */
  private previousGtids(ev: PreviousGtidsEvent): void {
    const p = this.readPosition;
    const base = GtidState.fromEvent(ev);
    this.readPosition = {
      file: p?.file ?? '',
      nextPosition: p?.nextPosition ?? 0,
      gtid: p?.gtid ? p.gtid.union(base) : base,
    };
  }

  /** Reads until stopped; reconnects from `readPosition` after a retryable end; applies the gap policy. */
  private async readLoop(first: { ended: Promise<Error | undefined> }): Promise<void> {
    let { ended } = first;
    let attempt = 0;
    const backoff = this.opts.reconnect ?? { initialMs: 200, maxMs: 10_000 };
    for (;;) {
      const err = await ended;
      this.conn?.close();
      this.lag.disconnected();
      if (this.stopRequested || this.failed()) return;
      if (err instanceof CachetailError && !err.retryable && !isGap(err)) {
        // The server ended the dump with a refusal (e.g. ERR 1227 on the dump command): final, as below.
        this.refused = true;
        return this.fail(err);
      }
      if (isGap(err)) this.log.error(errorFields(err), 'binlog gap');
      else
        this.log.warn(
          err ? errorFields(err) : { err: 'server ended the dump' },
          'binlog stream ended; reconnecting',
        );
      // Nothing is read until a new dump runs: not ready meanwhile, and /status says why.
      this.state = 'connecting';
      if (err) this.lastError = reconnectError(err);
      let gapErr = isGap(err) ? (err as CachetailError) : null;
      for (;;) {
        if (!gapErr) {
          const delay = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt++, 20));
          await sleepUnlessAborted(delay * (0.5 + Math.random() / 2), this.stopping.signal);
        }
        if (this.stopRequested) return;
        let conn: ReplicationConnection | null = null;
        try {
          const c = await this.connect();
          conn = c.conn;
          let resolved: ResolvedStart;
          if (gapErr) {
            resolved = await this.onGap(gapErr, conn, c.identity);
            gapErr = null;
          } else {
            resolved = this.resumePoint(c.identity);
            if (resolved.start.kind === 'gtid') await checkGtidHistory(conn, resolved.start.gtid);
            this.identity = c.identity;
          }
          this.stats.reconnects++;
          this.opts.metrics?.reconnects.inc(reconnectReason(err));
          ({ ended } = await this.dump(conn, resolved.start));
          attempt = 0;
          break;
        } catch (e) {
          conn?.close();
          if (this.failed()) return;
          if (isGap(e)) {
            gapErr = e as CachetailError;
            continue;
          }
          if (e instanceof CachetailError && !e.retryable) {
            // As at start: a setup the replica now refuses (login, preflight, the dump itself) is not
            // retried, and a restart would meet the same refusal — alive, not ready, /status says why.
            this.refused = true;
            return this.fail(e);
          }
          this.state = 'connecting';
          this.lastError = reconnectError(e);
          this.log.warn({ ...errorFields(e), attempt }, 'reconnect failed');
        }
      }
    }
  }

  /** Where a reconnect resumes: the last whole transaction read (by GTID when the state is usable). */
  private resumePoint(identity: ServerIdentity): ResolvedStart {
    const p = this.readPosition;
    const before = this.identity;
    const same = before === null || sameServer(before, identity);
    return resumeFrom(
      identity.flavor,
      {
        gtid: p?.gtid && !p.gtid.isEmpty ? p.gtid.toString() : null,
        file: p?.file ?? '',
        position: p?.nextPosition ?? 0,
      },
      same,
    );
  }

  /** Applies the gap policy: fail closed (throws after marking the tailer failed) or flush and skip ahead. */
  private async onGap(
    err: CachetailError,
    conn: ReplicationConnection,
    identity: ServerIdentity,
  ): Promise<ResolvedStart> {
    this.stats.gaps++;
    this.gapDetectedAt = Date.now();
    // The policy applied: flush needs a sink that can flush; without one the gap fails closed.
    const policy = this.opts.gapPolicy === 'flush' && this.opts.sink.flush ? 'flush' : 'fail-closed';
    this.opts.metrics?.gapEvents.inc(policy);
    if (policy === 'fail-closed') {
      this.gap = true;
      this.fail(err);
    }
    this.log.error(
      { err: errorMessage(err), code: err.code, policy },
      'gap: flushing the regional cache tier and continuing from the current end of the binlog',
    );
    await this.opts.sink.flush?.(new AbortController().signal);
    const resolved = await currentEnd(conn);
    this.identity = identity;
    this.setStart(resolved);
    return resolved;
  }

  /** Marks the tailer failed (not ready; /status says why), stops reading. Throws the error. */
  private fail(err: unknown): never {
    const e =
      err instanceof CachetailError ? err : new CachetailError('INTERNAL', errorMessage(err), { cause: err });
    if (this.state !== 'failed') {
      this.state = 'failed';
      this.lastError = e;
      this.log.error(
        { err: e.message, code: e.code, gap: this.gap, refused: this.refused },
        this.refused
          ? 'tailer refused: fix the setup and restart it (not retried)'
          : 'tailer stopped on error',
      );
      this.conn?.close();
      this.streamEnded?.(undefined);
      this.queue.close();
    }
    throw e;
  }
}
