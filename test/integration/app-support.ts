/**
 * A tailer for the application-library tests, on a real replica, deleting (or tombstoning) in a real
 * memcached, recording every committed transaction it delivers.
 *
 * Without outbox tables this is the real `Tailer`. With them it is the same pipeline without the Tailer's
 * loop — ReplicationConnection dump → BinlogDecoder → TransactionAssembler (outbox option) → the sink, one
 * transaction at a time in commit order — because TailerOptions does not pass the assembler's `outbox`
 * option yet (that wiring belongs to the tailer; see docs/app-library.md). Switch it to the Tailer then.
 */
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { BinlogDecoder } from '../../src/binlog/index.js';
import type { Credentials, ServerEndpoint } from '../../src/devcluster/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { ReplicationConnection } from '../../src/replication/client.js';
import { MemcachedSink } from '../../src/sinks/memcached/sink.js';
import type { InvalidationBatch, Sink } from '../../src/sinks/sink.js';
import { annotationExtractor } from '../../src/tailer/create.js';
import { currentEnd } from '../../src/tailer/resume.js';
import { Tailer } from '../../src/tailer/tailer.js';
import { TransactionAssembler } from '../../src/tailer/transactions.js';
import { waitFor } from '../helpers/wait.js';

let nextServerId = 7_500;

export interface AppTailerOptions {
  replica: ServerEndpoint;
  tailerUser: Credentials;
  /** `host:port` of the region's memcached. */
  memcached: string;
  /** Hold-off mode: tombstones with this TTL instead of deletes. */
  holdOffSeconds?: number;
  /** `db.table` outbox tables. */
  outboxTables?: string[];
}

/**
 * Records each batch once the inner sink acknowledged it — memcached has then applied it — so a test that
 * saw a transaction delivered may read memcached at once (test/helpers' RecordingSink records before).
 */
export class AckedSink implements Sink {
  readonly name = 'acked';
  /** Every acknowledged transaction, in order, with its own keys. */
  readonly transactions: { gtid: string | undefined; keys: string[] }[] = [];
  readonly writerTimes = new Map<string, number | undefined>();

  constructor(private readonly inner: Sink) {}

  /** All acknowledged keys, in delivery order. */
  get keys(): string[] {
    return this.transactions.flatMap((t) => t.keys);
  }

  async deliver(batch: InvalidationBatch, signal: AbortSignal): Promise<void> {
    await this.inner.deliver(batch, signal);
    for (const t of batch.transactions) {
      this.transactions.push({ gtid: t.gtid, keys: [...t.keys] });
      if (t.gtid) this.writerTimes.set(t.gtid, t.writerTimeMs);
    }
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

export interface AppTailer {
  sink: AckedSink;
  /** Keys of the delivered transaction with this GTID, once delivered. */
  keysOf(gtid: string): Promise<string[]>;
  /** Writer time (`ts=` or outbox created_at) of the delivered transaction with this GTID. */
  writerTimeOf(gtid: string): number | undefined;
  stop(): Promise<void>;
}

const log = createLogger(process.env.CACHETAIL_TEST_LOG ?? 'silent');

export async function startAppTailer(opts: AppTailerOptions): Promise<AppTailer> {
  const memcached = new MemcachedSink({
    servers: [opts.memcached],
    timeoutMs: 1_000,
    retries: 1_000,
    holdOff: opts.holdOffSeconds ? { ttlSeconds: opts.holdOffSeconds } : null,
    log,
  });
  const sink = new AckedSink(memcached);
  const source = {
    host: opts.replica.host,
    port: opts.replica.port,
    user: opts.tailerUser.user,
    password: opts.tailerUser.password,
    serverId: nextServerId++,
    connectTimeoutMs: 5_000,
    heartbeatMs: 1_000,
  };
  const stop = opts.outboxTables
    ? await startPipeline(source, sink, opts.outboxTables)
    : await startTailer(source, sink);
  return {
    sink,
    keysOf: async (gtid) => {
      const t = await waitFor(`transaction ${gtid} to be delivered`, () =>
        sink.transactions.find((x) => x.gtid === gtid),
      );
      return t.keys;
    },
    writerTimeOf: (gtid) => sink.writerTimes.get(gtid),
    stop: async () => {
      await stop();
      await sink.close();
    },
  };
}

type Source = Parameters<typeof ReplicationConnection.open>[0];

async function startTailer(source: Source, sink: Sink): Promise<() => Promise<void>> {
  const tailer = new Tailer({
    source,
    start: { kind: 'current' },
    sink,
    extract: annotationExtractor(log),
    log,
    connect: (s) => ReplicationConnection.open(s),
    maxBatchKeys: 1_000,
    maxPendingTransactions: 1_000,
  });
  await tailer.start();
  return () => tailer.stop();
}

async function startPipeline(source: Source, sink: Sink, tables: string[]): Promise<() => Promise<void>> {
  const conn = await ReplicationConnection.open(source);
  const { file, position } = await currentEnd(conn);
  const decoder = new BinlogDecoder({ checksumBeforeFde: 'detect' });
  const assembler = new TransactionAssembler(annotationExtractor(log), { outbox: { tables } });
  assembler.reset(file);
  const abort = new AbortController();
  let chain = Promise.resolve();
  let failure: unknown;
  await conn.startDump(
    source,
    { kind: 'file', file, position },
    {
      onEvent: (bytes) => {
        const txn = assembler.push(decoder.decode(bytes));
        // As the Tailer's delivery queue: a transaction without keys only moves the position.
        if (txn && txn.keys.length > 0) {
          chain = chain.then(() => sink.deliver({ transactions: [txn], keys: txn.keys }, abort.signal));
          chain.catch((err: unknown) => (failure ??= err));
        }
      },
      onEnd: (err) => {
        if (err && !abort.signal.aborted) failure ??= err;
      },
    },
  );
  return async () => {
    abort.abort();
    conn.close();
    await chain.catch(() => undefined);
    if (failure)
      throw failure instanceof Error ? failure : new Error('the pipeline failed', { cause: failure });
  };
}

/** The GTID the server gave this connection's last transaction (MariaDB). */
export async function lastGtid(conn: Connection): Promise<string> {
  const [rows] = await conn.query<RowDataPacket[]>('SELECT @@last_gtid AS g');
  const g = String(rows[0]?.g ?? '');
  if (!g) throw new Error('this connection has committed no GTID transaction');
  return g;
}
