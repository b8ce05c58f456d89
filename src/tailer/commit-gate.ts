/**
 * The replica has *written* a transaction to its binlog before it has *committed* it. MySQL's group
 * commit makes a transaction readable by binlog dump threads at the end of its flush stage (after the
 * sync stage with sync_binlog=1), and only then runs the sync stage — which waits
 * binlog_group_commit_sync_delay µs, a setting replicas use to commit more per group — and the commit
 * stage, where InnoDB makes the rows visible and @@gtid_executed takes the GTID. A delete sent as soon as
 * the XID event is read can therefore reach memcached while the replica still serves the old rows, and
 * a reader that misses the cache in that window refills it with them: the stale value stays until the
 * TTL. With binlog_group_commit_sync_delay=1000000 on a MySQL 9.7 replica the window is a whole second.
 *
 * The gate closes that window: before a batch is delivered, it waits until the replica's
 * @@gtid_executed holds every GTID of the batch (WAIT_FOR_EXECUTED_GTID_SET on a connection of its own,
 * with the tailer's account; no privilege is needed). Usually the transaction has committed already and
 * the wait costs one round trip per batch.
 *
 * Only MySQL GTIDs are gated. MariaDB has no server-side view of the GTIDs its storage engines have
 * committed (gtid_binlog_pos moves at the binlog write), and a transaction without a GTID (MySQL with
 * gtid_mode=OFF) has nothing to wait for: both are delivered as before. If the replica does not confirm
 * within `maxWaitMs` (connection lost, binlog reset under the tailer) the batch is delivered anyway, with
 * a warning: an early delete beats a missed one.
 */
import type { RowDataPacket } from 'mysql2/promise';
import { GtidState, detectFlavor } from '../binlog/index.js';
import { CachetailError, errorMessage } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { CommittedTransaction } from '../sinks/sink.js';

export interface CommitGate {
  /**
   * Resolves once the replica has committed every transaction of `transactions` (or the gate gave up
   * waiting, which it logs). Rejects only when `signal` aborts or the gate was closed.
   */
  wait(transactions: readonly CommittedTransaction[], signal: AbortSignal): Promise<void>;
  /** Ends the gate's connection; later waits reject. */
  close(): void;
}

/** A plain SQL connection to the replica (the tailer's ReplicationConnection fits). */
export interface GateConnection {
  query<T extends RowDataPacket[]>(sql: string, values?: unknown[]): Promise<T>;
  close(): void;
}

export interface ReplicaCommitGateOptions {
  /** Opens a connection to the replica the tailer reads (same address, account and TLS). */
  open: () => Promise<GateConnection>;
  log: Logger;
  /** Longest wait for one batch before it is delivered unconfirmed (default 10 s). */
  maxWaitMs?: number;
  /** Length of one server-side wait, in seconds (default 1): a stop interrupts it anyway. */
  pollSeconds?: number;
  /** Pause after a failed connect or query (default 200 ms). */
  retryMs?: number;
  /** How long past its own wait a query may take before its connection is dropped (default 2 s). */
  graceMs?: number;
  now?: () => number;
}

/** The MySQL GTIDs of `transactions` as one GTID set text (`uuid:1-3:tag:7`); '' when there are none. */
export function mysqlGtidSetOf(transactions: readonly CommittedTransaction[]): string {
  let set = GtidState.empty('mysql');
  for (const t of transactions) {
    const g = t.gtid;
    if (g === undefined || g === '' || g === 'ANONYMOUS' || detectFlavor(g) !== 'mysql') continue;
    set = set.add(g);
  }
  return set.toString();
}

export class ReplicaCommitGate implements CommitGate {
  /** Batches delivered without the replica's confirmation (the wait ran out). */
  unconfirmed = 0;
  private conn: GateConnection | null = null;
  private closed = false;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(private readonly opts: ReplicaCommitGateOptions) {
    this.log = opts.log.child({ module: 'commit-gate' });
    this.now = opts.now ?? Date.now;
  }

  async wait(transactions: readonly CommittedTransaction[], signal: AbortSignal): Promise<void> {
    const set = mysqlGtidSetOf(transactions);
    if (set === '') return;
    const maxWaitMs = this.opts.maxWaitMs ?? 10_000;
    const pollSeconds = this.opts.pollSeconds ?? 1;
    const started = this.now();
    let lastProblem: string | undefined;
    for (;;) {
      this.throwIfStopped(signal);
      const left = maxWaitMs - (this.now() - started);
      if (left <= 0) {
        this.unconfirmed++;
        this.log.warn(
          { gtids: set, waitedMs: this.now() - started, problem: lastProblem },
          'the replica has not confirmed committing these transactions; delivering their keys anyway',
        );
        return;
      }
      let conn: GateConnection | null = null;
      const interrupt = (): void => conn?.close();
      try {
        conn = await this.connection();
        this.throwIfStopped(signal);
        signal.addEventListener('abort', interrupt, { once: true });
        const seconds = Math.max(0.001, Math.min(pollSeconds, left / 1000));
        // A server that stops answering (frozen, or a dead link without a FIN) must not hold the batch
        // past maxWaitMs: the query gets its own wait plus a grace period, then the connection goes.
        const rows = await answerWithin(
          conn.query<RowDataPacket[]>('SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?) AS r', [set, seconds]),
          seconds * 1000 + (this.opts.graceMs ?? 2_000),
        );
        // 0: every GTID is in @@gtid_executed; 1: timed out (wait again). NULL or anything else: an error.
        const r = Number(rows[0]?.r);
        if (r === 0) return;
        if (r !== 1) lastProblem = `WAIT_FOR_EXECUTED_GTID_SET returned ${String(rows[0]?.r)}`;
      } catch (err) {
        this.throwIfStopped(signal);
        lastProblem = errorMessage(err);
        this.log.debug({ err: lastProblem }, 'commit gate query failed; reconnecting');
        if (conn === this.conn) this.drop();
        await sleep(Math.min(this.opts.retryMs ?? 200, Math.max(0, left)), signal);
      } finally {
        signal.removeEventListener('abort', interrupt);
      }
    }
  }

  close(): void {
    this.closed = true;
    this.drop();
  }

  private async connection(): Promise<GateConnection> {
    if (this.conn) return this.conn;
    const conn = await this.opts.open();
    if (this.closed) {
      conn.close();
      throw stopped();
    }
    this.conn = conn;
    return conn;
  }

  private drop(): void {
    const c = this.conn;
    this.conn = null;
    c?.close();
  }

  private throwIfStopped(signal: AbortSignal): void {
    if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : stopped();
    if (this.closed) throw stopped();
  }
}

/** `p`, or a rejection after `ms` (`p`'s own later failure is then ignored). */
function answerWithin<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new CachetailError('COMMIT_GATE_TIMEOUT', `no answer within ${ms} ms`)),
      ms,
    );
  });
  p.catch(() => undefined);
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

function stopped(): CachetailError {
  return new CachetailError('STOPPED', 'tailer stopped');
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
