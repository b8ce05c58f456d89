/**
 * The tailer loop: read the local replica's binlog, assemble transactions, hand committed keys to the
 * sink in commit order, and track two positions (as Debezium does):
 *  - `readPosition`: just after the last transaction read in full — where a reconnect resumes, since
 *    a partly read transaction is dropped and read again;
 *  - `acknowledged`: just after the last transaction whose deletes the sink acknowledged, with every
 *    earlier transaction acknowledged too — what a checkpoint may record.
 * Reading pauses while too many committed transactions wait for the sink (backpressure).
 */
import type { RowDataPacket } from 'mysql2/promise';
import { BinlogDecoder } from '../binlog/index.js';
import { CachetailError, errorMessage } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { ReplicationConnection, ReplicationSource, StartPosition } from '../replication/client.js';
import type { CommittedTransaction, Sink } from '../sinks/sink.js';
import { TransactionAssembler, type KeyExtractor } from './transactions.js';

export interface Position {
  file: string;
  nextPosition: number;
  gtid: string | undefined;
}

export interface TailerOptions {
  source: ReplicationSource;
  /** 'current' = the replica's binlog end at start-up. */
  start: StartPosition | { kind: 'current' };
  sink: Sink;
  extract: KeyExtractor;
  log: Logger;
  connect: (source: ReplicationSource) => Promise<ReplicationConnection>;
  maxBatchKeys: number;
  maxPendingTransactions: number;
  reconnect?: { initialMs: number; maxMs: number };
}

export interface TailerStats {
  events: number;
  transactions: number;
  keysDelivered: number;
  batches: number;
  reconnects: number;
}

export type TailerState = 'idle' | 'connecting' | 'streaming' | 'stopped' | 'failed';

interface Pending {
  txn: CommittedTransaction;
  /** `readPosition` before this transaction: acknowledged once everything before it is. */
  before: Position | null;
}

export class Tailer {
  state: TailerState = 'idle';
  lastError: Error | undefined;
  readonly stats: TailerStats = { events: 0, transactions: 0, keysDelivered: 0, batches: 0, reconnects: 0 };
  readPosition: Position | null = null;
  acknowledged: Position | null = null;

  private readonly log: Logger;
  private readonly queue: Pending[] = [];
  private readonly abort = new AbortController();
  private conn: ReplicationConnection | null = null;
  private paused = false;
  private wakeWorker: (() => void) | null = null;
  private streamEnded: ((err: Error | undefined) => void) | null = null;
  private runPromise: Promise<void> | null = null;
  private initialStart: StartPosition | null = null;

  /** Read through a getter so TypeScript does not narrow `state` across awaits. */
  private get stopping(): boolean {
    return this.state === 'stopped';
  }

  constructor(private readonly opts: TailerOptions) {
    this.log = opts.log.child({ module: 'tailer' });
  }

  /** Starts reading; resolves once the first dump is running. `done` settles when the tailer ends. */
  async start(): Promise<void> {
    const start = await this.resolveStart();
    this.initialStart = start;
    if (start.kind === 'file') {
      // Nothing read yet: a reconnect before the first commit must resume here, not at a new "current".
      this.readPosition = { file: start.file, nextPosition: start.position, gtid: undefined };
      this.acknowledged = this.readPosition;
    }
    const first = await this.connectAndDump(start);
    this.runPromise = Promise.all([this.readLoop(first), this.deliverLoop()]).then(() => undefined);
  }

  get done(): Promise<void> {
    return this.runPromise ?? Promise.resolve();
  }

  /** Stops reading, lets in-flight deliveries finish (bounded by the caller), closes the connection. */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'failed') return this.done.catch(() => undefined);
    this.state = 'stopped';
    this.abort.abort(new CachetailError('STOPPED', 'tailer stopped', { retryable: false }));
    this.conn?.close();
    this.streamEnded?.(undefined);
    this.wakeWorker?.();
    await this.done.catch(() => undefined);
  }

  private async resolveStart(): Promise<StartPosition> {
    const start = this.opts.start;
    if (start.kind !== 'current') return start;
    const conn = await this.opts.connect(this.opts.source);
    try {
      const rows = await conn.query<RowDataPacket[]>('SHOW MASTER STATUS');
      const row = rows[0];
      if (!row) {
        throw new CachetailError(
          'BINLOG_DISABLED',
          `${this.opts.source.host}:${this.opts.source.port} has no binary log (SHOW MASTER STATUS is empty): start it with log_bin and log_slave_updates=ON`,
          { retryable: false },
        );
      }
      const pos = { kind: 'file' as const, file: String(row.File), position: Number(row.Position) };
      this.log.warn(
        { file: pos.file, position: pos.position },
        'no start position given: starting at the current end of the binlog',
      );
      return pos;
    } finally {
      conn.close();
    }
  }

  private async connectAndDump(start: StartPosition): Promise<{ ended: Promise<Error | undefined> }> {
    this.state = 'connecting';
    const conn = await this.opts.connect(this.opts.source);
    this.conn = conn;
    const decoder = new BinlogDecoder({ checksumBeforeFde: 'detect' });
    const assembler = new TransactionAssembler(this.opts.extract);
    assembler.reset(start.kind === 'file' ? start.file : '');
    const ended = new Promise<Error | undefined>((resolve) => {
      this.streamEnded = resolve;
    });
    await conn.startDump(this.opts.source, start, {
      onEvent: (bytes) => {
        this.stats.events++;
        const end = bytes.length >= 17 ? bytes.readUInt32LE(13) : 0;
        // Artificial events (fake ROTATE, the FDE re-sent at dump start) have log_pos 0: no position.
        const ev = decoder.decode(bytes, end > 0 ? end - bytes.length : undefined);
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
      },
      onEnd: (err) => this.streamEnded?.(err),
    });
    this.state = 'streaming';
    this.log.info({ flavor: conn.flavor, serverVersion: conn.serverVersion, start }, 'binlog dump started');
    // Wrapped: an async function returning a bare promise would wait for it instead of handing it over.
    return { ended };
  }

  private committed(txn: CommittedTransaction): void {
    this.stats.transactions++;
    const before = this.readPosition;
    this.readPosition = { file: txn.file, nextPosition: txn.nextPosition, gtid: txn.gtid };
    if (txn.keys.length === 0) {
      if (this.queue.length === 0) this.acknowledged = this.readPosition;
      return;
    }
    this.queue.push({ txn, before });
    this.wakeWorker?.();
    if (!this.paused && this.queue.length >= this.opts.maxPendingTransactions) {
      this.paused = true;
      this.conn?.pause();
    }
  }

  /** Reads until stopped; on a retryable stream error reconnects from `readPosition`. */
  private async readLoop(first: { ended: Promise<Error | undefined> }): Promise<void> {
    let { ended } = first;
    let attempt = 0;
    const backoff = this.opts.reconnect ?? { initialMs: 200, maxMs: 10_000 };
    for (;;) {
      const err = await ended;
      this.conn?.close();
      if (this.stopping) return;
      if (err && err instanceof CachetailError && !err.retryable) return this.fail(err);
      this.log.warn(
        { err: err ? errorMessage(err) : 'server ended the dump' },
        'binlog stream ended; reconnecting',
      );
      for (;;) {
        const delay = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt++, 20));
        await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random() / 2)));
        if (this.stopping) return;
        try {
          const from = this.readPosition;
          this.stats.reconnects++;
          ({ ended } = await this.connectAndDump(
            from
              ? { kind: 'file', file: from.file, position: from.nextPosition }
              : (this.initialStart ?? (await this.resolveStart())),
          ));
          attempt = 0;
          break;
        } catch (e) {
          if (e instanceof CachetailError && !e.retryable) return this.fail(e);
          this.log.warn({ err: errorMessage(e), attempt }, 'reconnect failed');
        }
      }
    }
  }

  /** Delivers queued transactions in order, in batches of up to `maxBatchKeys` keys. */
  private async deliverLoop(): Promise<void> {
    const signal = this.abort.signal;
    for (;;) {
      if (this.queue.length === 0) {
        if (this.state === 'stopped' || this.state === 'failed') return;
        await new Promise<void>((r) => (this.wakeWorker = r));
        this.wakeWorker = null;
        continue;
      }
      const take: Pending[] = [];
      const keys = new Set<string>();
      for (const p of this.queue) {
        if (take.length > 0 && keys.size + p.txn.keys.length > this.opts.maxBatchKeys) break;
        take.push(p);
        for (const k of p.txn.keys) keys.add(k);
      }
      try {
        await this.opts.sink.deliver({ transactions: take.map((p) => p.txn), keys: [...keys] }, signal);
      } catch (err) {
        if (this.state === 'stopped') return;
        return this.fail(err instanceof Error ? err : new Error(errorMessage(err)));
      }
      this.queue.splice(0, take.length);
      this.stats.batches++;
      this.stats.keysDelivered += keys.size;
      const next = this.queue[0];
      this.acknowledged = next ? next.before : this.readPosition;
      const last = take[take.length - 1]?.txn;
      this.log.debug({ keys: keys.size, transactions: take.length, gtid: last?.gtid }, 'invalidated');
      if (this.paused && this.queue.length <= this.opts.maxPendingTransactions / 2) {
        this.paused = false;
        this.conn?.resume();
      }
    }
  }

  private fail(err: Error): void {
    if (this.state === 'failed') return;
    this.state = 'failed';
    this.lastError = err;
    this.log.error(
      { err: errorMessage(err), code: (err as Partial<CachetailError>).code },
      'tailer stopped on error',
    );
    this.abort.abort(err);
    this.conn?.close();
    this.streamEnded?.(undefined);
    this.wakeWorker?.();
    throw err;
  }
}
