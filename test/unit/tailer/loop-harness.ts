/**
 * The Tailer loop without a server: a fake MariaDB replica whose binlog is built from the event builders
 * of test/helpers/binlog, fake replication connections that stream it (and honour pause/resume, drops,
 * purges and corrupt events the way the real client reports them), a sink whose acknowledgements the
 * test controls, and an in-memory checkpoint store. Used with fake timers: nothing here waits for real.
 */
import { crc32 } from 'node:zlib';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, vi } from 'vitest';
import {
  buildAnnotateRows,
  buildFormatDescription,
  buildHeartbeat,
  buildMariadbGtid,
  buildQuery,
  buildRotate,
  buildXid,
  setNextPosition,
  type EventOptions,
} from '../../helpers/binlog/index.js';
import { EventFlag } from '../../../src/binlog/constants.js';
import { CachetailError } from '../../../src/errors.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createTailerMetrics, type TailerMetrics } from '../../../src/observability/metrics.js';
import {
  liveness,
  readiness,
  type Liveness,
  type Readiness,
  type TailerStatus,
} from '../../../src/observability/status.js';
import type {
  BinlogStreamHandlers,
  ReplicationConnection,
  StartPosition,
} from '../../../src/replication/client.js';
import type { InvalidationBatch, Sink } from '../../../src/sinks/sink.js';
import type { Checkpoint, CheckpointStore } from '../../../src/tailer/checkpoint.js';
import { tailerStatus } from '../../../src/tailer/status.js';
import { Tailer, type TailerOptions } from '../../../src/tailer/tailer.js';

export const FILE = 'mariadb-bin.000001';
/** Where the first transaction starts (after the file's FDE, GTID_LIST and BINLOG_CHECKPOINT). */
export const FIRST_TXN = 256;
/** Timestamp (s) of every event; the fake clock starts 100 s later. */
const EVENT_TIME = 1_700_000_000;
export const CLOCK_START = (EVENT_TIME + 100) * 1000;
const REGION = 'eu';
const SOURCE = {
  host: 'replica',
  port: 3306,
  user: 'u',
  password: '',
  serverId: 9,
  connectTimeoutMs: 1_000,
  heartbeatMs: 0,
};

/** The annotation the fake extractor reads: `/*keys:a,b*\/`. */
const annotated = (keys: readonly string[]): string => `UPDATE t SET v = v + 1 /*keys:${keys.join(',')}*/`;

function extractKeys(sql: string): { keys: string[] } {
  const list = /\/\*keys:([^*]*)\*\//.exec(sql)?.[1] ?? '';
  return { keys: list === '' ? [] : list.split(',') };
}

export interface Txn {
  /** MariaDB GTID `0-1-n` (n = 1, 2, … in commit order), or undefined on a replica without GTIDs. */
  gtid: string | undefined;
  keys: readonly string[];
  /** Where its first event starts, where its XID starts, and just after its XID. */
  start: number;
  commitAt: number;
  end: number;
}

/** One MariaDB replica's binlog (a single file) and what its SQL answers. */
export class FakeReplica {
  readonly events: { start: number; bytes: Buffer }[] = [];
  readonly txns: Txn[] = [];
  private pos = FIRST_TXN;
  /** A dump that needs an event before this position ends with error 1236 (the files were purged). */
  purgedBefore = 0;
  /** When set, startDump rejects with it (the registration as a replica was refused). */
  registerError: Error | null = null;

  constructor(
    /** @@server_id: the replica's identity. */
    readonly serverId = 2,
    /** false: a binlog without GTID events (BEGIN … XID), so only file/position can resume it. */
    readonly gtids = true,
  ) {}

  /** Appends one transaction: GTID 0-1-n (or BEGIN), an Annotate_rows carrying `keys`, XID. */
  commit(...keys: string[]): Txn {
    const n = this.txns.length + 1;
    const start = this.pos;
    if (this.gtids) this.append((o) => buildMariadbGtid({ domainId: 0, seqNo: BigInt(n) }, o));
    else this.append((o) => buildQuery({ sql: 'BEGIN' }, o));
    this.append((o) => buildAnnotateRows({ sql: annotated(keys) }, o));
    const commitAt = this.pos;
    this.append((o) => buildXid({ xid: BigInt(n) }, o));
    const txn = { gtid: this.gtids ? `0-1-${n}` : undefined, keys, start, commitAt, end: this.pos };
    this.txns.push(txn);
    return txn;
  }

  /** Overwrites the stored CRC32 of the event at `position` with 0xdeadbeef; returns the decoder's message. */
  corrupt(position: number): string {
    const event = this.events.find((e) => e.start === position);
    if (!event) throw new Error(`no event at ${position}`);
    const b = event.bytes;
    b.writeUInt32LE(0xdeadbeef, b.length - 4);
    const computed = crc32(b.subarray(0, b.length - 4))
      .toString(16)
      .padStart(8, '0');
    return (
      `CHECKSUM_MISMATCH: stored CRC32 0xdeadbeef, computed 0x${computed} ` +
      `(event type ${b[4]}, file ${FILE}, position ${position})`
    );
  }

  get end(): number {
    return this.pos;
  }

  /** @@gtid_binlog_pos. */
  get gtidPos(): string {
    return this.txns.at(-1)?.gtid ?? '';
  }

  /** SHOW BINLOG EVENTS of the file, as far as the history check reads it: Gtid_list, then the GTIDs. */
  binlogEvents(): { Event_type: string; Info: string }[] {
    const gtids = this.txns.flatMap((t) =>
      t.gtid ? [{ Event_type: 'Gtid', Info: `BEGIN GTID ${t.gtid}` }] : [],
    );
    return [{ Event_type: 'Gtid_list', Info: '[]' }, ...gtids];
  }

  /** The index of the first event a dump from `start` sends, or null when that part was purged. */
  firstEvent(start: StartPosition): number | null {
    let from: number;
    if (start.kind === 'file') {
      if (start.file !== FILE) throw new Error(`the fake replica has no file ${start.file}`);
      from = start.position;
    } else {
      const txn = this.txns.find((t) => t.gtid === start.gtid);
      if (!txn) throw new Error(`the fake replica has no GTID ${start.gtid}`);
      from = txn.end;
    }
    if (from < this.purgedBefore) return null;
    const index = from === this.pos ? this.events.length : this.events.findIndex((e) => e.start === from);
    if (index < 0) throw new Error(`no event starts at ${from}`);
    return index;
  }

  private append(build: (o: EventOptions) => Buffer): void {
    const b = build({ timestamp: EVENT_TIME, serverId: 1, checksum: 'crc32' });
    setNextPosition(b, this.pos + b.length, 'crc32');
    this.events.push({ start: this.pos, bytes: b });
    this.pos += b.length;
  }
}

/** The error the real client reports when the dump's ERR packet says 1236 (binlog purged). */
export const PURGED = new CachetailError(
  'BINLOG_UNAVAILABLE',
  'binlog dump: server error 1236: Could not find GTID state requested by slave in any binlog files. ' +
    'Probably the slave state is too old and required binlog files have been purged.',
  { retryable: false },
);

/**
 * One replication connection to a FakeReplica. Like the real one: startDump resolves once registered and
 * the dump's outcome arrives through the handlers; a handler that throws ends the stream with its error;
 * while paused nothing is sent.
 */
export class FakeConnection {
  readonly flavor = 'mariadb' as const;
  readonly serverVersion = '10.11.19-MariaDB-log';
  readonly dumps: StartPosition[] = [];
  /** pause / resume / close, in the order the tailer called them. */
  readonly calls: string[] = [];
  /** How the stream ended (undefined: EOF), once it did. */
  endedWith: Error | undefined | null = null;
  private handlers: BinlogStreamHandlers | null = null;
  private opening: Buffer[] = [];
  private cursor = 0;
  private until = 0;
  private paused = false;
  private closed = false;

  constructor(readonly replica: FakeReplica) {}

  get isClosed(): boolean {
    return this.closed;
  }

  query(sql: string): Promise<unknown[]> {
    if (sql === 'SELECT @@server_id AS id') return Promise.resolve([{ id: this.replica.serverId }]);
    if (sql === 'SELECT @@global.gtid_binlog_pos AS g') return Promise.resolve([{ g: this.replica.gtidPos }]);
    if (sql === 'SHOW MASTER STATUS') return Promise.resolve([{ File: FILE, Position: this.replica.end }]);
    // The history check before a resume by GTID (src/tailer/history.ts): one file, no earlier state.
    if (sql === 'SHOW BINARY LOGS') return Promise.resolve([{ Log_name: FILE }]);
    if (sql.startsWith('SHOW BINLOG EVENTS')) return Promise.resolve(this.replica.binlogEvents());
    return Promise.reject(new Error(`unexpected statement ${sql}`));
  }

  startDump(_source: unknown, start: StartPosition, handlers: BinlogStreamHandlers): Promise<void> {
    this.dumps.push(start);
    if (this.replica.registerError) return Promise.reject(this.replica.registerError);
    this.handlers = handlers;
    const first = this.replica.firstEvent(start);
    if (first === null) {
      // The ERR packet answers the dump command, after the registration resolved startDump.
      queueMicrotask(() => this.end(PURGED));
      return Promise.resolve();
    }
    this.cursor = first;
    // What a server sends first: a fake ROTATE (artificial, log_pos 0) and the file's FDE.
    const position = start.kind === 'file' ? start.position : 4;
    this.opening = [
      buildRotate({ position, nextFile: FILE }, { flags: EventFlag.ARTIFICIAL, checksum: 'crc32' }),
      buildFormatDescription(
        { serverVersion: this.serverVersion, checksum: 'crc32' },
        { timestamp: EVENT_TIME },
      ),
    ];
    return Promise.resolve();
  }

  /** Lets the server send its events up to byte `until` of the file (default: all it has now). */
  stream(until = this.replica.end): void {
    this.until = until;
    this.pump();
  }

  /** A heartbeat, as the server sends on a quiet link (not while we do not read). */
  heartbeat(): void {
    if (this.paused || this.endedWith !== null) return;
    const b = buildHeartbeat({ file: FILE }, { nextPosition: this.replica.end, checksum: 'crc32' });
    this.handlers?.onEvent(b);
  }

  /** The link breaks (socket error). */
  drop(err: Error = new Error('read ECONNRESET')): void {
    this.end(err);
  }

  /** The stream ends: `err` undefined is the server's EOF. */
  end(err?: Error): void {
    if (this.endedWith !== null) return;
    this.endedWith = err;
    this.handlers?.onEnd(err);
  }

  pause(): void {
    this.calls.push('pause');
    this.paused = true;
  }

  resume(): void {
    this.calls.push('resume');
    this.paused = false;
    // A socket resumes reading on a later tick, not inside the caller.
    queueMicrotask(() => this.pump());
  }

  close(): void {
    this.calls.push('close');
    this.closed = true;
  }

  private pump(): void {
    while (this.endedWith === null && !this.closed && !this.paused) {
      const next = this.opening.shift() ?? this.nextEvent();
      if (!next) return;
      try {
        this.handlers?.onEvent(next);
      } catch (err) {
        this.end(err as Error);
      }
    }
  }

  private nextEvent(): Buffer | undefined {
    const e = this.replica.events[this.cursor];
    if (!e || e.start >= this.until) return undefined;
    this.cursor++;
    return e.bytes;
  }
}

interface Waiting {
  resolve: () => void;
  reject: (err: Error) => void;
}

/** Records every batch handed to it; acknowledges at once, or when the test says (`hold`). */
export class ManualSink implements Sink {
  readonly name = 'manual';
  /** The keys of every batch handed to deliver(), in order. */
  readonly batches: string[][] = [];
  /** The keys of every batch acknowledged (deliver resolved), in order. */
  readonly acknowledged: string[][] = [];
  /** Regional flushes (the flush gap policy), when the sink can flush. */
  flushes = 0;
  readonly flush?: (signal: AbortSignal) => Promise<void>;
  /** While true, each delivery waits for ack() or fail(). */
  hold = false;
  private readonly waiting: Waiting[] = [];

  constructor(canFlush = true) {
    if (canFlush) {
      this.flush = () => {
        this.flushes++;
        return Promise.resolve();
      };
    }
  }

  /** Like the real sinks, a delivery the tailer aborts (stop) rejects with the signal's reason. */
  deliver(batch: InvalidationBatch, signal: AbortSignal): Promise<void> {
    const keys = [...batch.keys];
    this.batches.push(keys);
    if (!this.hold) {
      this.acknowledged.push(keys);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiting: Waiting = {
        resolve: () => {
          this.acknowledged.push(keys);
          resolve();
        },
        reject,
      };
      this.waiting.push(waiting);
      signal.addEventListener('abort', () => {
        const i = this.waiting.indexOf(waiting);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal.reason as Error);
      });
    });
  }

  /** Acknowledges the oldest waiting delivery. */
  ack(): void {
    const w = this.waiting.shift();
    if (!w) throw new Error('no delivery is waiting');
    w.resolve();
  }

  /** Fails the oldest waiting delivery. */
  fail(err: Error): void {
    const w = this.waiting.shift();
    if (!w) throw new Error('no delivery is waiting');
    w.reject(err);
  }

  get waitingCount(): number {
    return this.waiting.length;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The checkpoint store in memory: every save recorded, in order. */
export class MemoryCheckpointStore implements CheckpointStore {
  readonly path = '/state/checkpoint.json';
  readonly saved: Checkpoint[] = [];

  constructor(private readonly initial: Checkpoint | Error | null = null) {}

  load(): Promise<Checkpoint | null> {
    if (this.initial instanceof Error) return Promise.reject(this.initial);
    return Promise.resolve(this.saved.at(-1) ?? this.initial);
  }

  save(cp: Checkpoint): Promise<void> {
    this.saved.push(cp);
    return Promise.resolve();
  }

  /** The saved positions, as `file:position gtid`. */
  get positions(): string[] {
    return this.saved.map((c) => `${c.file}:${c.position} ${c.gtid ?? '-'}`);
  }
}

export interface LoopOptions {
  replica?: FakeReplica;
  sink?: ManualSink;
  start?: TailerOptions['start'];
  checkpoint?: Checkpoint | Error | null;
  gapPolicy?: TailerOptions['gapPolicy'];
  maxBatchKeys?: number;
  maxPendingTransactions?: number;
  maxPendingKeys?: number;
  livenessTimeoutMs?: number;
  reconnect?: TailerOptions['reconnect'];
  checkpointIntervalMs?: number;
}

/** A Tailer wired to the fakes above, with the real metrics on a registry of its own. */
export class LoopHarness {
  /** The replica behind the address: the next connection reaches it (swap it to change servers). */
  replica: FakeReplica;
  readonly sink: ManualSink;
  readonly store: MemoryCheckpointStore;
  readonly metrics: TailerMetrics;
  readonly tailer: Tailer;
  /** Every connection opened, in order. */
  readonly connections: FakeConnection[] = [];
  /** The fake clock at every connect attempt, failed ones included. */
  readonly connectTimes: number[] = [];
  /** The next connect attempts fail with these, in order; then they succeed. */
  readonly connectErrors: Error[] = [];
  private held: Promise<void> | null = null;

  constructor(o: LoopOptions = {}) {
    this.replica = o.replica ?? new FakeReplica();
    this.sink = o.sink ?? new ManualSink();
    this.store = new MemoryCheckpointStore(o.checkpoint ?? null);
    this.metrics = createTailerMetrics(new Registry());
    this.tailer = new Tailer({
      source: SOURCE,
      start: o.start ?? { kind: 'file', file: FILE, position: FIRST_TXN },
      sink: this.sink,
      extract: extractKeys,
      log: createLogger('silent'),
      connect: () => this.connect(),
      checkpoints: this.store,
      checkpointIntervalMs: o.checkpointIntervalMs ?? 1_000,
      gapPolicy: o.gapPolicy,
      livenessTimeoutMs: o.livenessTimeoutMs,
      maxBatchKeys: o.maxBatchKeys ?? 1,
      maxPendingTransactions: o.maxPendingTransactions ?? 100,
      maxPendingKeys: o.maxPendingKeys,
      reconnect: o.reconnect ?? { initialMs: 100, maxMs: 1_000 },
      metrics: this.metrics,
    });
  }

  /** The latest connection. */
  get conn(): FakeConnection {
    const c = this.connections.at(-1);
    if (!c) throw new Error('no connection yet');
    return c;
  }

  /** Connect attempts wait until the returned function is called. */
  holdConnects(): () => void {
    let release = (): void => {};
    this.held = new Promise<void>((r) => (release = r));
    return () => {
      this.held = null;
      release();
    };
  }

  private async connect(): Promise<ReplicationConnection> {
    this.connectTimes.push(Date.now());
    if (this.held) await this.held;
    const err = this.connectErrors.shift();
    if (err) throw err;
    const c = new FakeConnection(this.replica);
    this.connections.push(c);
    return c as unknown as ReplicationConnection;
  }

  status(): TailerStatus {
    return tailerStatus(this.tailer, REGION, this.store.path);
  }

  /**
   * stop(), with the fake clock running until it returns: through the drain, and through a reconnect
   * delay under way (the loop finishes that sleep before it sees the stop).
   */
  async stop(drainMs = 0): Promise<void> {
    let stopped = false;
    const stopping = this.tailer.stop(drainMs).finally(() => (stopped = true));
    for (let waited = 0; !stopped; waited += 100) {
      if (waited > 60_000) throw new Error('stop() did not return within 60 s of fake time');
      await vi.advanceTimersByTimeAsync(100);
    }
    await stopping;
  }

  /** What /status, /readyz and /healthz would say. */
  health(): { state: TailerStatus['state']; readiness: Readiness; liveness: Liveness } {
    const s = this.status();
    return { state: s.state, readiness: readiness(s), liveness: liveness(s) };
  }

  /** The value of each label of a counter (`label` names the label). */
  async counter(name: string, label: string): Promise<Record<string, number>> {
    const metric = this.metrics.registry.getSingleMetric(name);
    if (!metric) throw new Error(`no metric ${name}`);
    const out: Record<string, number> = {};
    for (const v of (await metric.get()).values) out[String(v.labels[label])] = v.value;
    return out;
  }
}

/** Runs every timer due within `ms` of fake time, and everything they and pending promises start. */
export async function elapse(ms = 0): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

/** A position as the Tailer reports it: `file:position gtid` (gtid '-' when unknown). */
export function where(
  p: { file: string; nextPosition: number; gtid: { toString(): string } | null } | null,
): string {
  return p ? `${p.file}:${p.nextPosition} ${p.gtid?.toString() ?? '-'}` : 'none';
}

/**
 * Sets up a test file of the loop: a fake clock from CLOCK_START, the reconnect jitter pinned to 0 (every
 * delay exactly half its base) unless `pinJitter: false`, and every harness made stopped after each test.
 * Returns the factory the tests make their harnesses with.
 */
export function loopHarnesses(opts: { pinJitter?: boolean } = {}): (o?: LoopOptions) => LoopHarness {
  const made: LoopHarness[] = [];
  beforeEach(() => {
    vi.useFakeTimers({ now: CLOCK_START });
    if (opts.pinJitter !== false) vi.spyOn(Math, 'random').mockReturnValue(0);
  });
  afterEach(async () => {
    for (const h of made.splice(0)) await h.stop().catch(() => undefined);
    vi.useRealTimers();
    vi.restoreAllMocks();
  });
  return (o = {}) => {
    const h = new LoopHarness(o);
    made.push(h);
    return h;
  };
}
