/**
 * Where `cachetail replay` reads transactions from: binlog files (the reading and transaction grouping
 * of `cachetail binlog`) or the replica over the wire (a non-blocking dump, so the stream ends at the
 * end of the binlog). Both yield TransactionReports in commit order and keep `cursor` at the last
 * position read, for progress and the summary. The range test itself is the caller's.
 */
import type { RowDataPacket } from 'mysql2/promise';
import { Readable } from 'node:stream';
import { BinlogDecoder } from '../binlog/decoder.js';
import type { BinlogEvent } from '../binlog/events/types.js';
import { CachetailError } from '../errors.js';
import { ReplicationConnection, type ReplicationSource } from '../replication/client.js';
import type { OutboxOptions } from '../tailer/outbox.js';
import { currentEnd } from '../tailer/resume.js';
import { readBinlogEvents } from './binlog-input.js';
import { TransactionTracker, type TransactionReport } from './binlog-transactions.js';
import { binlogName, decodeAt } from './binlog.js';
import { compareFiles, pastTo, type ReplayRange } from './replay-range.js';

/** The last position read (file as the server names it). */
export interface ReadCursor {
  file: string;
  position: number;
}

/**
 * True once a transaction of the range ends at or past a position --to: every later one starts there or
 * after. Checked per transaction, not per event, so the last one of the range is read to its commit.
 */
function endsRange(range: ReplayRange, t: TransactionReport): boolean {
  return pastTo(range, { file: t.file, position: t.endLogPos });
}

/** Pushes one event, and a MySQL TRANSACTION_PAYLOAD's inner events, with the payload's position. */
function* pushEvent(
  tracker: TransactionTracker,
  decoder: BinlogDecoder,
  at: number,
  ev: BinlogEvent,
): Generator<TransactionReport> {
  if (ev.kind !== 'transaction_payload') {
    const t = tracker.push(at, ev);
    if (t) yield t;
    return;
  }
  for (const inner of decoder.payloadEvents(ev)) {
    const t = tracker.push(at, {
      ...inner,
      header: { ...inner.header, nextPosition: ev.header.nextPosition },
    });
    if (t) yield t;
  }
}

/**
 * The transactions of binlog files, in the order given. With a position range, files wholly before
 * --from or after --to are not read, and the --from file is read from --from on.
 */
export async function* transactionsFromFiles(
  files: readonly string[],
  range: ReplayRange,
  outbox: OutboxOptions | undefined,
  cursor: ReadCursor,
): AsyncGenerator<TransactionReport> {
  const { from, to } = range;
  for (const file of files) {
    const name = binlogName(file);
    if (from?.kind === 'position' && compareFiles(name, from.file) < 0) continue;
    if (to?.kind === 'position' && compareFiles(name, to.file) > 0) continue;
    const decoder = new BinlogDecoder({ file });
    const tracker = new TransactionTracker(name, { outbox });
    const startPosition = from?.kind === 'position' && from.file === name ? from.position : undefined;
    let last: { event: BinlogEvent; end: number } | undefined;
    cursor.file = name;
    for await (const { position: at, bytes } of readBinlogEvents(
      file,
      { name: file, startPosition },
      Readable.from([]),
    )) {
      const ev = decodeAt(decoder, bytes, at, file);
      last = { event: ev, end: at + bytes.length };
      cursor.position = last.end;
      for (const t of pushEvent(tracker, decoder, at, ev)) {
        yield t;
        if (endsRange(range, t)) return;
      }
    }
    const open = tracker.finish(last);
    if (open) yield open;
  }
}

/** The oldest binlog file the server still has: where a GTID or time range is searched from. */
async function firstBinlog(conn: ReplicationConnection): Promise<string> {
  const rows = await conn.query<RowDataPacket[]>('SHOW BINARY LOGS');
  const first = rows[0];
  if (!first)
    throw new CachetailError('BINLOG_DISABLED', 'the replica has no binary log (SHOW BINARY LOGS is empty)');
  return String(first.Log_name);
}

/** Events of a dump as an async iterable, reading paused while `highWater` events wait. */
class EventQueue {
  private readonly events: Buffer[] = [];
  private ended: { err: Error | undefined } | undefined;
  private wake: (() => void) | undefined;
  constructor(
    private readonly conn: ReplicationConnection,
    private readonly highWater = 10_000,
  ) {}

  readonly handlers = {
    onEvent: (bytes: Buffer): void => {
      // The buffer is only valid during the call.
      this.events.push(Buffer.from(bytes));
      if (this.events.length >= this.highWater) this.conn.pause();
      this.wake?.();
    },
    onEnd: (err?: Error): void => {
      this.ended = { err };
      this.wake?.();
    },
  };

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    for (;;) {
      const next = this.events.shift();
      if (next) {
        if (this.events.length === this.highWater / 2) this.conn.resume();
        yield next;
        continue;
      }
      if (this.ended) {
        if (this.ended.err) throw this.ended.err;
        return;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}

/**
 * The transactions of the replica's binlog from --from (a file:position) or from its oldest file, up
 * to the end of its binlog as read at start (later writes are not replayed) or a position --to.
 * `source.serverId` registers the dump: it must differ from the running tailer's, or the server would
 * end the tailer's dump.
 */
export async function* transactionsFromReplica(
  source: ReplicationSource,
  range: ReplayRange,
  outbox: OutboxOptions | undefined,
  cursor: ReadCursor,
): AsyncGenerator<TransactionReport> {
  const conn = await ReplicationConnection.open(source);
  try {
    const end = await currentEnd(conn);
    const from = range.from;
    const start =
      from?.kind === 'position'
        ? { file: from.file, position: from.position }
        : { file: await firstBinlog(conn), position: 4 };
    const queue = new EventQueue(conn);
    await conn.startDump(source, { kind: 'file', ...start }, queue.handlers, { nonBlocking: true });
    const decoder = new BinlogDecoder({ checksumBeforeFde: 'detect' });
    const tracker = new TransactionTracker(start.file, { outbox });
    let file = start.file;
    let last: { event: BinlogEvent; end: number } | undefined;
    Object.assign(cursor, start);
    for await (const bytes of queue) {
      const endLogPos = bytes.readUInt32LE(13);
      // Artificial events (the fake ROTATE, the FDE re-sent at dump start) have log_pos 0: no position.
      const at = endLogPos > 0 ? endLogPos - bytes.length : undefined;
      if (at !== undefined) {
        if (compareFiles(file, end.file) > 0 || (file === end.file && at >= end.position)) break;
      }
      const ev = decoder.decode(bytes, at);
      if (at !== undefined) {
        last = { event: ev, end: endLogPos };
        Object.assign(cursor, { file, position: endLogPos });
      }
      if (ev.kind === 'rotate') file = ev.nextFile;
      for (const t of pushEvent(tracker, decoder, at ?? cursor.position, ev)) {
        yield t;
        if (endsRange(range, t)) return;
      }
    }
    const open = tracker.finish(last);
    if (open) yield open;
  } finally {
    conn.close();
  }
}
