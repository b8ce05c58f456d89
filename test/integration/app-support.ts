/**
 * A tailer for the application-library tests, on a real replica, deleting (or tombstoning) in a real
 * memcached, recording every committed transaction it delivers: the real `Tailer`, with outbox tables
 * when given, and the replica commit gate as in production.
 */
import type { Connection } from 'mysql2/promise';
import { lastWriteGtid, trackWriteGtids, type InvalidationCommit } from '../../src/app/index.js';
import type { ClusterControl, Credentials, ServerEndpoint } from '../../src/devcluster/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { ReplicationConnection } from '../../src/replication/client.js';
import { MemcachedSink } from '../../src/sinks/memcached/sink.js';
import type { InvalidationBatch, Sink } from '../../src/sinks/sink.js';
import { ReplicaCommitGate } from '../../src/tailer/commit-gate.js';
import { annotationExtractor } from '../../src/tailer/extract.js';
import { Tailer } from '../../src/tailer/tailer.js';
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
  const tailer = new Tailer({
    source,
    start: { kind: 'current' },
    sink,
    extract: annotationExtractor(log),
    log,
    connect: (s) => ReplicationConnection.open(s),
    // As in production (src/wiring/memcached-tailer.ts): deliver only what the replica has committed.
    commitGate: new ReplicaCommitGate({ open: () => ReplicationConnection.open(source), log }),
    outbox: opts.outboxTables ? { tables: opts.outboxTables } : undefined,
    maxBatchKeys: 1_000,
    maxPendingTransactions: 1_000,
  });
  await tailer.start();
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
      await tailer.stop();
      await sink.close();
    },
  };
}

/**
 * The GTIDs withInvalidation reported (`onCommit: commits.record`), in commit order: what the tests look
 * transactions up by, on every server line (docs/app-library.md §2).
 */
export class CommitLog {
  readonly gtids: string[] = [];
  readonly record = (commit: InvalidationCommit): void => {
    this.gtids.push(commit.gtid);
  };

  /** The GTID of the last reported commit; throws when there is none or the server reported none. */
  last(): string {
    const g = this.gtids.at(-1);
    if (!g) throw new Error(`no GTID reported for the last commit (reported: ${JSON.stringify(this.gtids)})`);
    return g;
  }
}

/** A connection to the primary whose hand-written statements can report their GTID (lastGtid). */
export async function connectWriter(
  cluster: ClusterControl,
  opts: { database?: string } = {},
): Promise<Connection> {
  const conn = await cluster.connect('primary', opts);
  await trackWriteGtids(conn);
  return conn;
}

/**
 * The GTID of the transaction a hand-written COMMIT (or autocommit statement) on a connectWriter
 * connection committed: pass that statement's result (MySQL reports the GTID only there).
 */
export async function lastGtid(conn: Connection, result: unknown): Promise<string> {
  const g = await lastWriteGtid(conn, result);
  if (!g) throw new Error('this statement committed no GTID transaction');
  return g;
}
